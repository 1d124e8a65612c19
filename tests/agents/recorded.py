"""Recorded runs made by the tests themselves: synthetic vial frames written through the real frame store
and run records, as the acquisition loop would write them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from labloop.config import Settings
from labloop.knowledge_base.db import session_scope
from labloop.knowledge_base.frame_store import FrameStore
from labloop.knowledge_base.models import Experiment, RunStatus
from labloop.knowledge_base.runs import add_frame, finish_run, start_run
from tests.agents.synthetic import SIZE, VIAL, encode, render_vial

START = datetime(2024, 5, 1, 20, 0, tzinfo=UTC)


def turbidity_curve(n: int, onset_index: int, step: float = 0.15) -> list[float]:
    """Clear until `onset_index`, then rising haze up to 1."""
    return [0.0 if i < onset_index else min(1.0, step * (i - onset_index + 1)) for i in range(n)]


def record_run(
    engine: Engine, settings: Settings, hazes: Sequence[float | bytes], *, interval_s: float = 300,
    status: RunStatus = RunStatus.success, operator: str = "robot", start: datetime = START,
    skip_after: dict[int, float] | None = None, roi: tuple[int, int, int, int] | None = VIAL,
) -> int:
    """A run with one frame per entry: a haze level to render, or raw bytes to store as they are."""
    store = FrameStore(settings.frames_dir)
    with session_scope(engine) as session:
        experiment = Experiment(name="polyamic acid particles", setup="PMDA and ODA in acetone, 25 degC, stirred.")
        session.add(experiment)
        session.flush()
        snapshot = {"camera": {"kind": "test", "vial_roi": list(roi)}} if roi else {}
        run = start_run(session, config_snapshot=snapshot, operator=operator, name=f"{operator} run",
                        experiment_id=experiment.id, started_at=start)
        t = start
        for seq, item in enumerate(hazes):
            data = item if isinstance(item, bytes) else encode(render_vial(item, seed=seq))
            stored = store.put(data, "png")
            add_frame(session, run.id, seq=seq, ts=t, camera="test", stored=stored, width=SIZE[1], height=SIZE[0])
            t += timedelta(seconds=interval_s + (skip_after or {}).get(seq, 0))
        if status != RunStatus.running:
            finish_run(session, run.id, status=status, stopped_at=t)
        return run.id
