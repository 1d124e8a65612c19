"""Writing runs: events in batches with sequence numbers, gaps, frames, and runs abandoned by a dead process."""

from datetime import timedelta

from sqlmodel import Session, select

from labloop.knowledge_base.frame_store import FrameStore
from labloop.knowledge_base.models import DeviceEvent, Frame, Gap, Run, RunStatus
from labloop.knowledge_base.runs import (
    EventRecord,
    add_device_events,
    add_frame,
    close_gap,
    finish_run,
    mark_abandoned_runs,
    next_seq,
    open_gap,
    start_run,
)
from labloop.knowledge_base.types import utcnow


def test_run_lifecycle(engine, tmp_path):
    store = FrameStore(tmp_path / "frames")
    with Session(engine) as s:
        run = start_run(s, config_snapshot={"camera": "sim:seed=1"}, operator="human", name="r1")
        t0 = utcnow()
        events = [EventRecord(ts=t0 + timedelta(seconds=i), device="robot", direction="tx", payload=f"G1 X{i}")
                  for i in range(5)]
        assert add_device_events(s, run.id, events, first_seq=0) == 5
        assert next_seq(s, DeviceEvent, run.id) == 5
        gap = open_gap(s, run.id, device="camera", reason="no frame for 30 s")
        close_gap(s, gap.id)
        add_frame(s, run.id, seq=0, ts=t0, camera="sim", stored=store.put(b"img"), width=4, height=3)
        finish_run(s, run.id, status=RunStatus.success)
        s.commit()
        run_id = run.id
    with Session(engine) as s:
        run = s.get(Run, run_id)
        assert run.status == RunStatus.success and run.stopped_at is not None
        assert [e.payload for e in s.exec(select(DeviceEvent).order_by(DeviceEvent.seq))] == [
            f"G1 X{i}" for i in range(5)
        ]
        assert s.exec(select(Gap)).one().ended_at is not None
        assert s.exec(select(Frame)).one().sha256 == store.put(b"img").sha256


def test_runs_of_dead_processes_are_closed_as_failed_with_a_gap(engine):
    with Session(engine) as s:
        dead = start_run(s, config_snapshot={})
        dead.pid = 2**22 + 12345  # no such process
        alive = start_run(s, config_snapshot={})
        alive.pid = 1  # init: alive, and not us
        s.commit()
        closed = mark_abandoned_runs(s)
        s.commit()
        assert closed == [dead.id]
        assert s.get(Run, dead.id).status == RunStatus.failed
        assert s.get(Run, alive.id).status == RunStatus.running
        gap = s.exec(select(Gap).where(Gap.run_id == dead.id)).one()
        assert "process ended" in gap.reason
