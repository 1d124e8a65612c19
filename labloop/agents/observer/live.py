"""Observe while recording: the acquisition loop runs in a thread and wakes the observer on every frame."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from sqlalchemy import Engine

from labloop.agents.observer.runner import ObserveOptions, ObserverError, ObserveSummary, observe_run
from labloop.config import Settings
from labloop.knowledge_base.frame_store import FrameStore


def observe_acquisition(
    engine: Engine, settings: Settings, acquisition_config: Any, *, checkpointer: BaseCheckpointSaver,
    options: ObserveOptions | None = None, on_frame: Callable[[dict[str, Any]], None] | None = None,
    stop: threading.Event | None = None,
) -> ObserveSummary:
    """Record a run with `labloop.devices.acquisition.run_acquisition` and observe it as frames arrive."""
    from labloop.devices.acquisition import run_acquisition

    options = options or ObserveOptions()
    options.follow = True
    stop = stop or threading.Event()
    frame_signal, started = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def captured(frame: Any) -> None:
        outcome.setdefault("run_id", frame.run_id)
        started.set()
        frame_signal.set()

    def record() -> None:
        try:
            outcome["run_id"] = run_acquisition(acquisition_config, engine=engine,
                                                store=FrameStore(settings.frames_dir), on_frame=captured, stop=stop)
        except BaseException as exc:  # handed to the observing thread below
            outcome["error"] = exc
        finally:
            started.set()
            frame_signal.set()

    thread = threading.Thread(target=record, name="acquisition", daemon=True)
    thread.start()
    try:
        started.wait()
        if "run_id" not in outcome:
            raise ObserverError(f"acquisition stopped before the first frame: {outcome.get('error')}")
        summary = observe_run(engine, settings, outcome["run_id"], checkpointer=checkpointer, options=options,
                              on_frame=on_frame, stop=stop, frame_signal=frame_signal)
    except BaseException:
        stop.set()  # the observer failed or was interrupted: end the recording cleanly too
        raise
    finally:
        thread.join()
    if "error" in outcome:
        raise ObserverError(f"acquisition of run {outcome['run_id']} failed: {outcome['error']}") from outcome["error"]
    return summary
