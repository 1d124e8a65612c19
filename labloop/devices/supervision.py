"""Keeping devices alive during a long acquisition: grab frames off the recording thread with a timeout,
reconnect cameras and the robot with backoff, and report outages as gap openings/closings (gaps are data)."""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from labloop.devices.cameras import Camera, CameraError, CameraExhausted, UnreadableFrame, open_camera
from labloop.devices.clock import Clock
from labloop.devices.marlin import MarlinDriver, ProgramSummary, RobotError
from labloop.devices.marlin.gcode import GCodeCommand
from labloop.knowledge_base.runs import EventRecord

log = logging.getLogger(__name__)


class EventSink:
    """Thread-safe buffer of device events between database flushes; a flood beyond `cap` is counted, not kept."""

    def __init__(self, cap: int = 50_000) -> None:
        self._events: list[EventRecord] = []
        self._lock = threading.Lock()
        self._cap, self._dropped = cap, 0

    def add(self, event: EventRecord) -> None:
        with self._lock:
            if len(self._events) < self._cap:
                self._events.append(event)
            else:
                self._dropped += 1

    def take(self) -> list[EventRecord]:
        with self._lock:
            events, self._events = self._events, []
            dropped, self._dropped = self._dropped, 0
        if dropped:
            events.append(EventRecord(ts=events[-1].ts, device=events[-1].device, direction="info", kind="flood",
                                      payload=f"{dropped} more events in this interval were not stored (flood)"))
        return events


@dataclass
class GapChange:
    device: str
    opened: bool
    ts: datetime
    reason: str = ""


@dataclass
class Backoff:
    """Exponential retry delays in clock seconds: base, 2*base, ... up to `cap`."""

    base_s: float = 1.0
    cap_s: float = 300.0
    attempts: int = 0
    next_at: float = 0.0

    def due(self, now: float) -> bool:
        return now >= self.next_at

    def failed(self, now: float) -> float:
        delay = min(self.base_s * 2**self.attempts, self.cap_s)
        self.attempts += 1
        self.next_at = now + delay
        return delay

    def reset(self) -> None:
        self.attempts, self.next_at = 0, 0.0


@dataclass
class _Outage:
    device: str
    changes: list[GapChange] = field(default_factory=list)
    down: bool = False

    def fail(self, ts: datetime, reason: str) -> None:
        if not self.down:
            self.down = True
            self.changes.append(GapChange(self.device, True, ts, reason))

    def recover(self, ts: datetime) -> None:
        if self.down:
            self.down = False
            self.changes.append(GapChange(self.device, False, ts))


class CameraSupervisor:
    """Owns the camera: opens it (retrying with backoff), grabs each frame in a worker thread with a timeout."""

    def __init__(self, spec: str, *, clock: Clock, sink: EventSink, timeout_s: float = 30.0,
                 backoff: Backoff | None = None, opener: Callable[[str], Camera] | None = None) -> None:
        self.spec, self.clock, self.sink, self.timeout_s = spec, clock, sink, timeout_s
        self.backoff = backoff or Backoff()
        self.outage = _Outage("camera")
        self.exhausted = False
        self.camera: Camera | None = None
        origin = clock.now()
        self._open = opener or (lambda s: open_camera(s, clock=clock, origin=origin))
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="camera-grab")

    def grab(self) -> np.ndarray | None:
        """The next frame, or None during an outage (recorded as a gap, retried with backoff)."""
        if self.camera is None and not self._reopen():
            return None
        future = self._pool.submit(self.camera.read)
        try:
            image = future.result(timeout=self.timeout_s)
        except concurrent.futures.TimeoutError:
            self._lost(f"camera {self.spec!r} returned no frame for {self.timeout_s:g} s")
            self._pool.shutdown(wait=False)  # the stuck read keeps its thread; grabs go to a fresh one
            self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="camera-grab")
            return None
        except CameraExhausted as exc:
            self.exhausted = True
            self._note("end", str(exc))
            return None
        except UnreadableFrame as exc:  # one bad frame: a gap until the next good one, the camera stays open
            self.outage.fail(self.clock.now(), str(exc))
            self._note("bad_frame", str(exc))
            log.warning("%s; skipped", exc)
            return None
        except CameraError as exc:
            self._lost(str(exc))
            return None
        self.backoff.reset()
        self.outage.recover(self.clock.now())
        return image

    def _reopen(self) -> bool:
        now = self.clock.monotonic()
        if not self.backoff.due(now):
            return False
        try:
            self.camera = self._open(self.spec)
        except CameraError as exc:
            delay = self.backoff.failed(now)
            self.outage.fail(self.clock.now(), str(exc))
            self._note("connect_failed", f"{exc}; retrying in {delay:g} s (attempt {self.backoff.attempts})")
            return False
        described = self.camera.describe()
        self._note("connect", f"opened {described.get('kind', 'camera')} camera {self.spec!r}")
        return True

    def _lost(self, reason: str) -> None:
        self.outage.fail(self.clock.now(), reason)
        delay = self.backoff.failed(self.clock.monotonic())
        self._note("disconnect", f"{reason}; reconnecting in {delay:g} s (attempt {self.backoff.attempts})")
        log.warning("%s; reconnecting in %g s (attempt %d)", reason, delay, self.backoff.attempts)
        self.close_camera()

    def close_camera(self) -> None:
        if self.camera is not None:
            camera, self.camera = self.camera, None
            self._pool.submit(camera.close)

    def close(self) -> None:
        self.close_camera()
        self._pool.shutdown(wait=False)

    def _note(self, kind: str, payload: str) -> None:
        self.sink.add(EventRecord(ts=self.clock.now(), device="camera", direction="info", kind=kind, payload=payload))


class RobotSupervisor:
    """Owns the robot: runs the start-up program in its own thread, polls the position between frames, and
    reconnects with backoff after a drop."""

    def __init__(self, url: str, *, clock: Clock, sink: EventSink, program: list[GCodeCommand] | None,
                 stop: threading.Event, timeout_s: float = 10.0, backoff: Backoff | None = None) -> None:
        self.clock, self.sink, self.stop = clock, sink, stop
        self.driver = MarlinDriver(url, on_event=sink.add, clock=clock, timeout_s=timeout_s, reconnect_attempts=1)
        self.backoff = backoff or Backoff()
        self.outage = _Outage("robot")
        self.program = program
        self.program_error: BaseException | None = None
        self.program_summary: ProgramSummary | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Connect; a configured program must be able to start now (raises `RobotError` otherwise)."""
        try:
            self.driver.connect()
        except RobotError as exc:
            if self.program:
                raise
            self._lost(str(exc))
            return
        if self.program:
            self._thread = threading.Thread(target=self._run_program, name="robot-program", daemon=True)
            self._thread.start()

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def tick(self) -> None:
        """Between frames: check the link with a position query, or reconnect when it is down and due."""
        if self.busy:
            return
        now = self.clock.monotonic()
        if not self.outage.down:
            reconnects, began = self.driver.stats.reconnects, self.clock.now()
            try:
                self.driver.position()
            except RobotError as exc:
                self._lost(str(exc))
                return
            if self.driver.stats.reconnects > reconnects:  # dropped and recovered within the poll: still a gap
                self.outage.fail(began, "the robot link dropped; reconnected at once")
                self.outage.recover(self.clock.now())
            return
        if self.backoff.due(now):
            try:
                self.driver.connect()
            except RobotError as exc:
                self._lost(str(exc))
                return
            self.backoff.reset()
            self.outage.recover(self.clock.now())

    def _run_program(self) -> None:
        try:
            assert self.program is not None
            self.program_summary = self.driver.run_program(self.program, stop=self.stop)
            self._note("program", f"program finished: {self.program_summary.line()}")
        except Exception as exc:  # recorded and reported as the run's failure reason
            self.program_error = exc
            notes = " ".join(getattr(exc, "__notes__", []))
            self._note("program", f"program failed: {exc} {notes}".strip())
            log.error("robot program failed: %s %s", exc, notes)

    def _lost(self, reason: str) -> None:
        self.outage.fail(self.clock.now(), reason)
        delay = self.backoff.failed(self.clock.monotonic())
        self._note("outage", f"{reason}; reconnecting in {delay:g} s (attempt {self.backoff.attempts})")

    def close(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.driver.close()

    def _note(self, kind: str, payload: str) -> None:
        self.sink.add(EventRecord(ts=self.clock.now(), device="robot", direction="info", kind=kind, payload=payload))
