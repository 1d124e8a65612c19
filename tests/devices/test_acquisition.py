"""The acquisition loop against a real database (SQLite file and PostgreSQL), the frame store, the simulated
camera and the simulated robot over TCP."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from labloop.devices.acquisition import AcquisitionConfig, AcquisitionConfigError, CapturedFrame, run_acquisition
from labloop.devices.clock import SimClock
from labloop.devices.marlin import GCodeValidationError, RobotConnectionError
from labloop.devices.simulator import running_simulator
from labloop.knowledge_base.frame_store import FrameStore
from labloop.knowledge_base.models import DeviceEvent, Frame, Gap, Run

SMALL = "sim:seed=1,onset=2h,width=320,height=240"
DISPENSE = ["G21", "G90", "M82", "G28", "G92 X0 Y0 Z0 E0", "G0 X29 Y50 F3000", "G1 E0.5 F50", "G0 X110 Y129 F3000",
            "G1 E0 F50", "M400"]


def _rows(engine: Engine, model: type, run_id: int) -> list:
    with Session(engine) as session:
        return list(session.exec(select(model).where(model.run_id == run_id).order_by(model.id)).all())


def test_twelve_hours_in_seconds_with_robot_program(engine: Engine, tmp_path: Path) -> None:
    store = FrameStore(tmp_path / "frames")
    seen: list[CapturedFrame] = []
    with running_simulator(speed=1e4) as sim:
        config = AcquisitionConfig(camera_spec=SMALL, robot_url=sim.url, interval_s=600, duration_s=12 * 3600,
                                   clock="sim", gcode=DISPENSE, name="overnight", operator="robot")
        run_id = run_acquisition(config, engine=engine, store=store, on_frame=seen.append)
        assert sim.firmware.dispensed_ml == pytest.approx(0.5)
    with Session(engine) as session:
        run = session.get(Run, run_id)
    assert run.status == "success" and run.exit_reason == "completed 73 frames"
    assert run.config_snapshot["gcode"] == DISPENSE and run.parameters["interval_s"] == 600
    assert (run.stopped_at - run.started_at).total_seconds() == 12 * 3600
    frames = _rows(engine, Frame, run_id)
    assert [f.seq for f in frames] == list(range(73)) and len(seen) == 73
    assert all(store.verify(f.path, f.sha256) for f in frames)
    assert [f.frame_id for f in seen] == [f.id for f in frames]
    assert (frames[1].ts - frames[0].ts).total_seconds() == 600
    assert store.stray_temp_files() == []
    events = _rows(engine, DeviceEvent, run_id)
    assert [e.seq for e in events] == list(range(len(events)))
    sent = [e.payload for e in events if e.device == "robot" and e.direction == "tx"]
    assert any("G1 E0.5 F50" in line for line in sent)
    assert any(e.kind == "program" and "finished" in e.payload for e in events)


def test_camera_outage_becomes_a_gap_and_the_run_goes_on(engine: Engine, tmp_path: Path) -> None:
    config = AcquisitionConfig(camera_spec=SMALL + ",outage=1h+30m", interval_s=300, duration_s=3 * 3600,
                               clock="sim", retry_base_s=60)
    run_id = run_acquisition(config, engine=engine, store=FrameStore(tmp_path / "frames"))
    (gap,) = _rows(engine, Gap, run_id)
    assert gap.device == "camera" and "outage" in gap.reason
    assert (gap.ended_at - gap.started_at).total_seconds() == pytest.approx(1800, abs=300)
    frames = _rows(engine, Frame, run_id)
    assert 30 <= len(frames) < 37
    with Session(engine) as session:
        assert session.get(Run, run_id).status == "success"


def test_robot_drop_becomes_a_gap_and_is_reconnected(engine: Engine, tmp_path: Path) -> None:
    with running_simulator(speed=1e4, faults="disconnect@4") as sim:
        config = AcquisitionConfig(camera_spec=SMALL, robot_url=sim.url, interval_s=60, duration_s=600,
                                   clock="sim", retry_base_s=60, robot_timeout_s=0.5)
        run_id = run_acquisition(config, engine=engine, store=FrameStore(tmp_path / "frames"))
    gaps = _rows(engine, Gap, run_id)
    assert [g.device for g in gaps] == ["robot"] and gaps[0].ended_at is not None
    assert len(_rows(engine, Frame, run_id)) == 11


def test_stop_event_closes_the_run_as_aborted(engine: Engine, tmp_path: Path) -> None:
    stop = threading.Event()

    def on_frame(frame: CapturedFrame) -> None:
        if frame.seq == 4:
            stop.set()

    config = AcquisitionConfig(camera_spec=SMALL, interval_s=60, duration_s=3600, clock="sim")
    run_id = run_acquisition(config, engine=engine, store=FrameStore(tmp_path / "f"), on_frame=on_frame, stop=stop)
    with Session(engine) as session:
        run = session.get(Run, run_id)
    assert run.status == "aborted" and "after 5 frames" in run.exit_reason


def test_a_failing_observer_does_not_end_the_run(sqlite_engine: Engine, tmp_path: Path) -> None:
    def broken(frame: CapturedFrame) -> None:
        raise RuntimeError("observer bug")

    config = AcquisitionConfig(camera_spec=SMALL, interval_s=60, duration_s=180, clock="sim")
    run_id = run_acquisition(config, engine=sqlite_engine, store=FrameStore(tmp_path / "f"), on_frame=broken)
    assert len(_rows(sqlite_engine, Frame, run_id)) == 4
    assert sum("observer bug" in e.payload for e in _rows(sqlite_engine, DeviceEvent, run_id)) == 4


def test_finite_video_ends_the_run_successfully(sqlite_engine: Engine, tmp_path: Path) -> None:
    import cv2

    from labloop.devices.cameras import open_camera

    path = tmp_path / "run.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 5, (160, 120))
    cam = open_camera("sim:width=160,height=120")
    for _ in range(3):
        writer.write(cam.read())
    writer.release()
    config = AcquisitionConfig(camera_spec=f"file:{path}", interval_s=1, duration_s=60, clock="sim")
    run_id = run_acquisition(config, engine=sqlite_engine, store=FrameStore(tmp_path / "f"))
    with Session(sqlite_engine) as session:
        run = session.get(Run, run_id)
    assert run.status == "success" and "camera source ended after 3 frames" in run.exit_reason


def test_missing_camera_is_an_outage_retried_with_backoff(sqlite_engine: Engine, tmp_path: Path) -> None:
    config = AcquisitionConfig(camera_spec=f"file:{tmp_path / 'none.avi'}", interval_s=10, duration_s=600,
                               clock="sim", retry_base_s=10)
    run_id = run_acquisition(config, engine=sqlite_engine, store=FrameStore(tmp_path / "f"), clock=SimClock())
    (gap,) = _rows(sqlite_engine, Gap, run_id)
    assert "does not exist" in gap.reason and gap.ended_at is not None  # closed when the run ends
    attempts = [e for e in _rows(sqlite_engine, DeviceEvent, run_id) if e.kind == "connect_failed"]
    assert 4 <= len(attempts) <= 7  # 10, 20, 40, 80, 160, 300 s apart, not every 10 s frame


def test_program_that_cannot_start_fails_the_run(sqlite_engine: Engine, tmp_path: Path) -> None:
    config = AcquisitionConfig(camera_spec=SMALL, robot_url="socket://127.0.0.1:1", interval_s=60, duration_s=60,
                               clock="sim", gcode=DISPENSE)
    with pytest.raises(RobotConnectionError):
        run_acquisition(config, engine=sqlite_engine, store=FrameStore(tmp_path / "f"))
    with Session(sqlite_engine) as session:
        (run,) = session.exec(select(Run)).all()
    assert run.status == "failed" and "RobotConnectionError" in run.exit_reason


def test_bad_configs_are_refused_before_a_run_opens(sqlite_engine: Engine, tmp_path: Path) -> None:
    store = FrameStore(tmp_path / "f")
    for bad, message in (
        (AcquisitionConfig(camera_spec=SMALL, interval_s=0), "interval"),
        (AcquisitionConfig(camera_spec=SMALL, operator="robotic"), "operator"),  # type: ignore[arg-type]
        (AcquisitionConfig(camera_spec=SMALL, gcode=["G28"]), "needs a robot"),
        (AcquisitionConfig(camera_spec=SMALL, clock="fast"), "clock"),  # type: ignore[arg-type]
    ):
        with pytest.raises(AcquisitionConfigError, match=message):
            run_acquisition(bad, engine=sqlite_engine, store=store)
    with pytest.raises(GCodeValidationError, match="line 2"):
        run_acquisition(AcquisitionConfig(camera_spec=SMALL, robot_url="socket://127.0.0.1:1", gcode=["G28", "G1 E99"]),
                        engine=sqlite_engine, store=store)
    with Session(sqlite_engine) as session:
        assert session.exec(select(Run)).all() == []


def test_an_unreadable_file_in_a_folder_camera_is_skipped_not_replayed_from_the_start(sqlite_engine: Engine,
                                                                                     tmp_path: Path) -> None:
    import cv2

    from labloop.devices.cameras import open_camera

    folder = tmp_path / "photos"
    folder.mkdir()
    image = open_camera("sim:width=160,height=120,seed=3").read()
    for i, name in enumerate(("a.png", "c.png", "d.png")):
        cv2.imwrite(str(folder / name), cv2.putText(image.copy(), name, (10, 60), cv2.FONT_HERSHEY_SIMPLEX, 1,
                                                    (0, 0, 255 - 60 * i), 2))
    (folder / "b.jpg").write_bytes(b"not really a jpeg")
    config = AcquisitionConfig(camera_spec=f"folder:{folder}", interval_s=60, duration_s=300, clock="sim")
    store = FrameStore(tmp_path / "f")
    run_id = run_acquisition(config, engine=sqlite_engine, store=store)
    frames = _rows(sqlite_engine, Frame, run_id)
    # a, (b unreadable), c, d, a, (b): every readable photo is recorded, the bad one costs one frame each time
    assert len(frames) == 4 and len({f.sha256 for f in frames}) == 3
    gaps = _rows(sqlite_engine, Gap, run_id)
    assert [g.device for g in gaps] == ["camera", "camera"] and all("b.jpg" in g.reason for g in gaps)
    assert (gaps[0].ended_at - gaps[0].started_at).total_seconds() == 60


def test_a_run_that_recorded_no_frame_is_failed_and_a_partial_one_says_how_many(sqlite_engine: Engine,
                                                                                tmp_path: Path) -> None:
    store = FrameStore(tmp_path / "f")
    config = AcquisitionConfig(camera_spec=f"file:{tmp_path / 'none.avi'}", interval_s=10, duration_s=60, clock="sim")
    run_id = run_acquisition(config, engine=sqlite_engine, store=store)
    with Session(sqlite_engine) as session:
        run = session.get(Run, run_id)
    assert run.status == "failed" and "no frame was recorded" in run.exit_reason and "none.avi" in run.exit_reason
    config = AcquisitionConfig(camera_spec=SMALL + ",outage=1h+30m", interval_s=600, duration_s=3 * 3600,
                               clock="sim", retry_base_s=60)
    run_id = run_acquisition(config, engine=sqlite_engine, store=store)
    with Session(sqlite_engine) as session:
        run = session.get(Run, run_id)
    frames = len(_rows(sqlite_engine, Frame, run_id))
    assert run.status == "success" and run.exit_reason == f"recorded {frames} of 19 frames (1 gap)"
