"""Running the observer on one run: a fresh start, a resume after a crash, or following a live recording."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from sqlalchemy import Engine

from labloop.agents.describe import VisionDescriber
from labloop.agents.observer.alerts import AlertSink
from labloop.agents.observer.context import ObserverContext
from labloop.agents.observer.graph import compile_graph
from labloop.agents.observer.state import initial_state
from labloop.agents.vision import Calibration, Roi
from labloop.config import Settings
from labloop.knowledge_base import observations as kb
from labloop.knowledge_base.db import session_scope
from labloop.knowledge_base.frame_store import FrameStore
from labloop.knowledge_base.models import Run

log = logging.getLogger(__name__)


class ObserverError(RuntimeError):
    """The observer cannot start on this run; the message says why and what to do."""


@dataclass
class ObserveOptions:
    roi: Roi | None = None
    describe_every: int = 12
    haze_trigger: float = 0.08
    use_llm: bool = True
    follow: bool = False
    poll_s: float = 2.0
    webhook_url: str | None = None


@dataclass
class ObserveSummary:
    run_id: int
    resumed: bool
    frames: int  # handled by this invocation
    observations: int  # of the run, in total
    llm_calls: int
    llm_failed: int
    unusable: int
    events: list[str] = field(default_factory=list)
    onset_elapsed_s: float | None = None
    calibration: str = ""
    roi: str = ""


def thread_id(run: Run) -> str:
    """Unique per run and per database (a rebuilt database reuses run ids, never their start times)."""
    return f"observer:run-{run.id}:{run.started_at.isoformat()}"


def roi_for_run(run: Run, explicit: Roi | None) -> Roi | None:
    """The --roi given, else the vial region the camera recorded in the run's configuration snapshot."""
    if explicit is not None:
        return explicit
    found = _find_key(run.config_snapshot or {}, "vial_roi")
    return Roi(*(int(v) for v in found)) if found and len(found) == 4 else None


def observe_run(
    engine: Engine, settings: Settings, run_id: int, *, checkpointer: BaseCheckpointSaver, resume: bool = False,
    options: ObserveOptions | None = None, on_frame: Callable[[dict[str, Any]], None] | None = None,
    stop: threading.Event | None = None, frame_signal: threading.Event | None = None,
) -> ObserveSummary:
    options = options or ObserveOptions()
    with session_scope(engine) as session:
        run = session.get(Run, run_id)
        if run is None:
            raise ObserverError(f"run {run_id} does not exist; the Runs page of `labloop dashboard` lists the recorded runs")
        calibration = Calibration.fit(kb.labelled_haze_pairs(session))
    graph = compile_graph(checkpointer)
    config = {"configurable": {"thread_id": thread_id(run)}, "recursion_limit": 1_000_000_000}
    snapshot = graph.get_state(config)
    if not snapshot.values:
        graph_input: dict[str, Any] | None = dict(initial_state(run_id, run.started_at.isoformat()))
    elif not resume:
        raise ObserverError(f"run {run_id} was already observed (a checkpoint exists); pass --resume to continue "
                            "where that observer stopped")
    else:
        graph_input = None if snapshot.next else {"done": False}
        log.info("resuming the observer of run %s after frame seq %s", run_id, snapshot.values.get("cursor"))
    describer = VisionDescriber(settings) if options.use_llm and settings.llm_configured else None
    roi = roi_for_run(run, options.roi)
    context = ObserverContext(
        engine=engine, frame_store=FrameStore(settings.frames_dir), describer=describer, calibration=calibration,
        roi=roi, describe_every=options.describe_every, haze_trigger=options.haze_trigger, follow=options.follow,
        poll_s=options.poll_s, alerts=AlertSink(options.webhook_url), on_frame=on_frame,
        stop=stop or threading.Event(), frame_signal=frame_signal or threading.Event(),
    )
    final = graph.invoke(graph_input, config, context=context)
    with session_scope(engine) as session:
        events = kb.events_for_run(session, run_id)
        count = kb.count_observations(session, run_id)
    onset = next((e.details.get("elapsed_s") for e in events if e.kind == "onset"), None)
    stats = final.get("stats", {})
    return ObserveSummary(
        run_id=run_id, resumed=bool(snapshot.values),
        frames=stats.get("frames", 0) - (snapshot.values.get("stats") or {}).get("frames", 0), observations=count,
        llm_calls=stats.get("llm_calls", 0), llm_failed=stats.get("llm_failed", 0), unusable=stats.get("unusable", 0),
        events=[e.kind for e in events], onset_elapsed_s=onset, calibration=calibration.source,
        roi=roi.as_text() if roi else "centre of the frame (no region configured)",
    )


def _find_key(data: Any, key: str) -> Any:
    if isinstance(data, dict):
        if key in data:
            return data[key]
        for value in data.values():
            found = _find_key(value, key)
            if found is not None:
                return found
    return None
