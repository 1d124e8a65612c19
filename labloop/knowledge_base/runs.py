"""Writing a run's record: open it with a config snapshot, append device events, frames and gaps, close it."""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session, select

from labloop.knowledge_base.frame_store import StoredFile
from labloop.knowledge_base.models import DeviceEvent, Frame, Gap, Run, RunStatus
from labloop.knowledge_base.types import utcnow


@dataclass(frozen=True)
class EventRecord:
    """A device event before it is written; the acquisition loop batches these."""

    ts: datetime
    device: str
    direction: str
    payload: str
    kind: str = "line"


def start_run(
    session: Session,
    *,
    config_snapshot: dict[str, Any],
    operator: str = "robot",
    name: str = "",
    experiment_id: int | None = None,
    parameters: dict[str, Any] | None = None,
    started_at: datetime | None = None,
) -> Run:
    run = Run(
        experiment_id=experiment_id,
        name=name,
        operator=operator,
        parameters=parameters or {},
        config_snapshot=config_snapshot,
        started_at=started_at or utcnow(),
        status=RunStatus.running,
        host=socket.gethostname(),
        pid=os.getpid(),
        heartbeat_at=utcnow(),
    )
    session.add(run)
    session.flush()
    return run


def finish_run(
    session: Session, run_id: int, *, status: RunStatus, reason: str = "", stopped_at: datetime | None = None
) -> None:
    session.execute(
        update(Run)
        .where(Run.id == run_id)
        .values(status=status, exit_reason=reason, stopped_at=stopped_at or utcnow())
    )


def add_to_snapshot(session: Session, run_id: int, key: str, value: Any) -> None:
    """Record something learnt after the run started (e.g. the opened camera's description) in its snapshot."""
    run = session.get(Run, run_id)
    run.config_snapshot = {**(run.config_snapshot or {}), key: value}
    session.add(run)


def heartbeat(session: Session, run_id: int) -> None:
    session.execute(update(Run).where(Run.id == run_id).values(heartbeat_at=utcnow()))


def add_device_events(session: Session, run_id: int, events: Sequence[EventRecord], *, first_seq: int) -> int:
    """Insert a batch of events with consecutive sequence numbers; returns the next free seq."""
    if not events:
        return first_seq
    rows = [
        {"run_id": run_id, "seq": first_seq + i, "ts": e.ts, "device": e.device, "direction": e.direction,
         "kind": e.kind, "payload": e.payload}
        for i, e in enumerate(events)
    ]
    session.execute(insert(DeviceEvent), rows)
    return first_seq + len(rows)


def add_frame(
    session: Session, run_id: int, *, seq: int, ts: datetime, camera: str, stored: StoredFile, width: int, height: int
) -> Frame:
    frame = Frame(
        run_id=run_id, seq=seq, ts=ts, camera=camera, path=stored.relpath, sha256=stored.sha256,
        size_bytes=stored.size_bytes, width=width, height=height,
    )
    session.add(frame)
    session.flush()
    return frame


def open_gap(session: Session, run_id: int, *, device: str, reason: str, started_at: datetime | None = None) -> Gap:
    gap = Gap(run_id=run_id, device=device, reason=reason, started_at=started_at or utcnow())
    session.add(gap)
    session.flush()
    return gap


def close_gap(session: Session, gap_id: int, *, ended_at: datetime | None = None) -> None:
    session.execute(update(Gap).where(Gap.id == gap_id).values(ended_at=ended_at or utcnow()))


def next_seq(session: Session, model: type[DeviceEvent] | type[Frame], run_id: int) -> int:
    from sqlalchemy import func

    last = session.exec(select(func.max(model.seq)).where(model.run_id == run_id)).one()
    return 0 if last is None else last + 1


def mark_abandoned_runs(session: Session, *, stale_after: timedelta = timedelta(minutes=5)) -> list[int]:
    """Runs still 'running' whose process is gone (same host, dead pid) or silent for `stale_after` are closed
    as failed, with a gap from their last heartbeat. Returns their ids."""
    host, now = socket.gethostname(), utcnow()
    closed: list[int] = []
    for run in session.exec(select(Run).where(Run.status == RunStatus.running)).all():
        alive = run.host == host and run.pid is not None and _pid_alive(run.pid) and run.pid != os.getpid()
        silent = run.heartbeat_at is None or now - run.heartbeat_at > stale_after
        if (run.host == host and not alive) or (run.host != host and silent):
            last = run.heartbeat_at or run.started_at
            open_gap(session, run.id, device="acquisition", reason="process ended without closing the run",
                     started_at=last)
            finish_run(session, run.id, status=RunStatus.failed,
                       reason="abandoned: the acquisition process died (detected at next start)", stopped_at=last)
            closed.append(run.id)
    return closed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

