"""Recording a simulated run for the demo with the device drivers themselves: the Marlin driver runs the
dispensing program against the simulated robot, the simulated camera supplies frames on a simulated clock."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
from sqlalchemy import Engine

from labloop.devices.cameras import open_camera
from labloop.devices.clock import SimClock
from labloop.devices.marlin.driver import MarlinDriver
from labloop.knowledge_base.db import session_scope
from labloop.knowledge_base.frame_store import FrameStore
from labloop.knowledge_base.models import RunStatus
from labloop.knowledge_base.runs import EventRecord, add_device_events, add_frame, finish_run, start_run


@dataclass(frozen=True)
class SimRunConfig:
    camera_spec: str
    interval_s: float
    duration_s: float
    operator: str
    name: str
    experiment_id: int | None
    robot_url: str | None = None
    gcode: Sequence[str] = ()


def record_sim_run(engine: Engine, store: FrameStore, config: SimRunConfig,
                   on_frame: Callable[[int, int], None] | None = None) -> int:
    """Dispense (when a robot is given), then one JPEG frame per interval for the duration; returns the run id."""
    clock = SimClock()
    camera = open_camera(config.camera_spec, clock=clock)
    events: list[EventRecord] = []
    with session_scope(engine) as session:
        run = start_run(session, config_snapshot={"camera": camera.describe(), "robot_url": config.robot_url,
                                                  "gcode": list(config.gcode), "interval_s": config.interval_s,
                                                  "duration_s": config.duration_s, "simulated": True},
                        operator=config.operator, name=config.name, experiment_id=config.experiment_id,
                        started_at=clock.now())
        run_id = run.id
    if config.robot_url:
        with MarlinDriver(config.robot_url, on_event=events.append, clock=clock) as robot:
            robot.run_gcode(config.gcode, source="demo dispensing program")
    with session_scope(engine) as session:
        add_device_events(session, run_id, events, first_seq=0)
    seq = 0
    while True:
        ok, buf = cv2.imencode(".jpg", camera.read(), [cv2.IMWRITE_JPEG_QUALITY, 90])
        stored = store.put(buf.tobytes(), "jpg")
        with session_scope(engine) as session:
            add_frame(session, run_id, seq=seq, ts=clock.now(), camera=config.camera_spec, stored=stored,
                      width=camera.params.width, height=camera.params.height)
        if on_frame:
            on_frame(run_id, seq)
        seq += 1
        if seq * config.interval_s > config.duration_s:
            break
        clock.sleep(config.interval_s)
    camera.close()
    with session_scope(engine) as session:
        finish_run(session, run_id, status=RunStatus.success, reason="demo run complete", stopped_at=clock.now())
    return run_id
