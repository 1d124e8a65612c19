"""The acquisition loop: open a Run with a config snapshot, grab a frame every interval into the frame store
(content-addressed, atomic) with a Frame row each, record robot traffic as device events and outages as gaps,
and close the Run with an exit status. A simulated clock lets a 12-hour run finish in seconds."""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np
from sqlalchemy import Engine

from labloop.devices.clock import Clock, make_clock
from labloop.devices.marlin import ProgramStopped
from labloop.devices.marlin.gcode import GCodeLimits, parse_program
from labloop.devices.supervision import Backoff, CameraSupervisor, EventSink, GapChange, RobotSupervisor
from labloop.knowledge_base.db import session_scope
from labloop.knowledge_base.frame_store import FrameStore
from labloop.knowledge_base.models import DeviceEvent, RunStatus
from labloop.knowledge_base.runs import (
    add_device_events,
    add_to_snapshot,
    add_frame,
    close_gap,
    finish_run,
    heartbeat,
    mark_abandoned_runs,
    next_seq,
    open_gap,
    start_run,
)

log = logging.getLogger(__name__)


class AcquisitionConfigError(ValueError):
    """The acquisition settings are inconsistent (e.g. an interval longer than the run)."""


@dataclass
class AcquisitionConfig:
    """What one acquisition run does; stored as the Run's config snapshot."""

    camera_spec: str
    robot_url: str | None = None
    interval_s: float = 60.0
    duration_s: float = 12 * 3600.0
    experiment_id: int | None = None
    operator: Literal["robot", "human"] = "robot"
    name: str = ""
    clock: Literal["sim", "real"] = "real"
    gcode: list[str] | None = None
    """program run on the robot at the start (e.g. dispense two monomer solutions)"""
    sim_speedup: float | None = None
    """with clock='sim': simulated seconds per real second (None = as fast as possible)"""
    jpeg_quality: int = 90
    camera_timeout_s: float = 30.0
    robot_timeout_s: float = 10.0
    retry_base_s: float = 5.0
    """first reconnect delay after an outage (clock seconds); doubles per failed attempt"""
    syringe_ml: float = 10.0
    """G-code volumes above this are refused before the run starts"""
    extra: dict[str, Any] = field(default_factory=dict)

    def check(self) -> None:
        problems = []
        if not (self.interval_s > 0 and math.isfinite(self.interval_s)):
            problems.append(f"interval must be a positive time, got {self.interval_s} s")
        if not (self.duration_s >= 0 and math.isfinite(self.duration_s)):
            problems.append(f"duration must be a non-negative time, got {self.duration_s} s")
        if self.operator not in {"robot", "human"}:
            problems.append(f"operator must be 'robot' or 'human', not {self.operator!r}")
        if self.clock not in {"sim", "real"}:
            problems.append(f"clock must be 'sim' or 'real', not {self.clock!r}")
        if not 1 <= self.jpeg_quality <= 100:
            problems.append("JPEG quality must be between 1 and 100")
        if self.gcode and not self.robot_url:
            problems.append("a G-code program needs a robot (--robot URL)")
        if problems:
            raise AcquisitionConfigError("; ".join(problems))

    @property
    def frame_count(self) -> int:
        """Frames at 0, interval, 2*interval, ... up to the duration."""
        return int(self.duration_s // self.interval_s) + 1


@dataclass(frozen=True)
class CapturedFrame:
    """A frame just committed to the store and the database, handed to an in-process observer."""

    run_id: int
    frame_id: int
    seq: int
    ts: datetime
    image: np.ndarray
    camera: str
    path: str
    sha256: str


def run_acquisition(config: AcquisitionConfig, *, engine: Engine, store: FrameStore, clock: Clock | None = None,
                    on_frame: Callable[[CapturedFrame], None] | None = None,
                    stop: threading.Event | None = None) -> int:
    """Record one run; returns its id. Setting `stop` ends it cleanly as aborted; an outage never ends it."""
    config.check()
    program = parse_program(config.gcode, limits=GCodeLimits(max_volume_ml=config.syringe_ml)) if config.gcode else None
    clock = clock or make_clock(config.clock, speedup=config.sim_speedup)
    stop = stop or threading.Event()
    with session_scope(engine) as session:
        for run_id in mark_abandoned_runs(session):
            log.warning("run %d was left running by a process that died; marked failed with a gap", run_id)
        run = start_run(session, config_snapshot={**asdict(config), "clock_impl": repr(clock)},
                        operator=config.operator, name=config.name, experiment_id=config.experiment_id,
                        parameters={"interval_s": config.interval_s, "duration_s": config.duration_s},
                        started_at=clock.now())
        run_id = run.id
        event_seq = next_seq(session, DeviceEvent, run_id)
    log.info("run %d started: %d frames every %g s from %s", run_id, config.frame_count, config.interval_s,
             config.camera_spec)
    loop = _Loop(config, run_id, engine, store, clock, stop, on_frame, event_seq)
    status, reason = RunStatus.failed, "interrupted"
    try:
        status, reason = loop.run(program)
    except BaseException as exc:
        reason = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        loop.close(status, reason)
    return run_id


class _Loop:
    """The state of one running acquisition (kept off `run_acquisition` so each step reads on its own)."""

    def __init__(self, config: AcquisitionConfig, run_id: int, engine: Engine, store: FrameStore, clock: Clock,
                 stop: threading.Event, on_frame: Callable[[CapturedFrame], None] | None, event_seq: int) -> None:
        self.config, self.run_id, self.engine, self.store = config, run_id, engine, store
        self.clock, self.stop, self.on_frame, self.event_seq = clock, stop, on_frame, event_seq
        self.sink = EventSink()
        self.frames = 0
        self.open_gaps: dict[str, int] = {}
        self.gap_count, self.first_gap_reason = 0, ""
        self.camera = CameraSupervisor(config.camera_spec, clock=clock, sink=self.sink,
                                       timeout_s=config.camera_timeout_s, backoff=Backoff(config.retry_base_s))
        self.robot: RobotSupervisor | None = None
        self.camera_described = False

    def run(self, program: Any) -> tuple[RunStatus, str]:
        cfg = self.config
        if cfg.robot_url:
            self.robot = RobotSupervisor(cfg.robot_url, clock=self.clock, sink=self.sink, program=program,
                                         stop=self.stop, timeout_s=cfg.robot_timeout_s,
                                         backoff=Backoff(cfg.retry_base_s))
            self.robot.start()
        t0, tick, total = self.clock.monotonic(), 0, cfg.frame_count
        while tick < total:
            if self.clock.wait(t0 + tick * cfg.interval_s - self.clock.monotonic(), self.stop):
                return RunStatus.aborted, f"stopped on request after {self.frames} frames"
            self._capture(tick)
            if self.camera.exhausted:
                return self._outcome(f"the camera source ended after {self.frames} frames")
            behind = math.floor((self.clock.monotonic() - t0) / cfg.interval_s)
            tick = max(tick + 1, behind + 1) if behind > tick else tick + 1
        if self.frames == 0:
            # a night with the camera down all along is not a successful run, whatever else went right
            self._outcome("")
            return RunStatus.failed, f"no frame was recorded in {total}: {self.first_gap_reason or 'no camera frame'}"
        if self.frames < total:
            return self._outcome(f"recorded {self.frames} of {total} frames ({self.gap_count} gap"
                                 f"{'' if self.gap_count == 1 else 's'})")
        return self._outcome(f"completed {self.frames} frames")

    def _outcome(self, reason: str) -> tuple[RunStatus, str]:
        if self.robot is not None:
            self.robot.close()
            err = self.robot.program_error
            if err is not None and not isinstance(err, ProgramStopped):
                notes = " ".join(getattr(err, "__notes__", []))
                return RunStatus.failed, f"robot program failed: {err} {notes}".strip()
        return RunStatus.success, reason

    def _capture(self, tick: int) -> None:
        ts = self.clock.now()
        image = self.camera.grab()
        if self.robot is not None:
            self.robot.tick()
        stored = None
        if image is not None:
            stored = self.store.put(_encode_jpeg(image, self.config.jpeg_quality), "jpg")
        with session_scope(self.engine) as session:
            self._apply_gaps(session)
            frame = None
            if stored is not None:
                frame = add_frame(session, self.run_id, seq=self.frames, ts=ts, camera=self.config.camera_spec,
                                  stored=stored, width=image.shape[1], height=image.shape[0])
            self.event_seq = add_device_events(session, self.run_id, self.sink.take(), first_seq=self.event_seq)
            if frame is not None and not self.camera_described and self.camera.camera is not None:
                # where the vial sits (sim: ROI, placement offset) is what the observer and the notes measure against
                add_to_snapshot(session, self.run_id, "camera", self.camera.camera.describe())
                self.camera_described = True
            heartbeat(session, self.run_id)
        if frame is None:
            return
        self.frames += 1
        if self.on_frame is not None:
            captured = CapturedFrame(self.run_id, frame.id, frame.seq, ts, image, self.config.camera_spec,
                                     frame.path, frame.sha256)
            try:
                self.on_frame(captured)
            except Exception as exc:  # an observer bug must not end a night's recording
                log.exception("on_frame callback failed for frame %d", frame.seq)
                self.sink.add(_info("observer", f"on_frame failed for frame {frame.seq}: {exc}", ts))

    def _apply_gaps(self, session: Any) -> None:
        changes: list[GapChange] = self.camera.outage.changes
        if self.robot is not None:
            changes = changes + self.robot.outage.changes
            self.robot.outage.changes = []
        self.camera.outage.changes = []
        for change in sorted(changes, key=lambda c: c.ts):
            if change.opened and change.device not in self.open_gaps:
                self.open_gaps[change.device] = open_gap(session, self.run_id, device=change.device,
                                                         reason=change.reason, started_at=change.ts).id
                self.gap_count += 1
                self.first_gap_reason = self.first_gap_reason or change.reason
            elif not change.opened and change.device in self.open_gaps:
                close_gap(session, self.open_gaps.pop(change.device), ended_at=change.ts)

    def close(self, status: RunStatus, reason: str) -> None:
        self.camera.close()
        if self.robot is not None:
            self.robot.close()
        end = self.clock.now()
        with session_scope(self.engine) as session:
            self._apply_gaps(session)
            for gap_id in self.open_gaps.values():
                close_gap(session, gap_id, ended_at=end)
            self.sink.add(_info("acquisition", f"run {status.value}: {reason}", end))
            self.event_seq = add_device_events(session, self.run_id, self.sink.take(), first_seq=self.event_seq)
            finish_run(session, self.run_id, status=status, reason=reason, stopped_at=end)
        log.info("run %d %s: %s", self.run_id, status.value, reason)


def _encode_jpeg(image: np.ndarray, quality: int) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError(f"JPEG encoding failed for a frame of shape {image.shape}")
    return buf.tobytes()


def _info(device: str, payload: str, ts: datetime) -> Any:
    from labloop.knowledge_base.runs import EventRecord

    return EventRecord(ts=ts, device=device, direction="info", kind="status", payload=payload)
