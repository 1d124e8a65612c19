"""The dispensing robot driver: Marlin G-code over a pyserial URL, one lock per command/response pair, every
line recorded as a device event, resends and keepalives handled, and a dropped link never silently repeats a
dispense. Domain verbs (home, move_to, aspirate, dispense, wait_idle, run_gcode) sit on top of `send`."""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from labloop.devices.clock import Clock, RealClock
from labloop.devices.marlin.errors import (
    CommandInterrupted,
    CommandTimeout,
    FirmwareError,
    ProgramStopped,
    ResendLimitError,
    RobotConnectionError,
    RobotError,
)
from labloop.devices.marlin.gcode import GCodeCommand, GCodeLimits, parse_program
from labloop.devices.marlin.link import SerialLink
from labloop.devices.marlin.protocol import Position, Reply, ReplyKind, classify, frame_line, parse_position
from labloop.devices.marlin.syringe import SyringeTracker
from labloop.knowledge_base.runs import EventRecord

log = logging.getLogger(__name__)

# Commands whose repetition cannot change the physical state: resent automatically after a reconnect.
SAFE_TO_REPEAT = {"M105", "M110", "M114", "M115", "M400", "G21", "G90", "G91", "M82", "M83", "M92", "M302", "G92"}
SLOW_COMMANDS = {"G0", "G1", "G2", "G3", "G4", "G28", "M400"}
HISTORY = 256
MAX_DATA_LINES = 1000
_CLOSED = object()
PROBE_COMMAND, PROBE_REPLY, MAX_PROBES = "M115", "FIRMWARE_NAME", 3
RESYNC_TRIES = 3


@dataclass
class DriverStats:
    """Counters since the driver was created; `run_gcode` reports the difference."""

    lines_sent: int = 0
    lines_received: int = 0
    resends: int = 0
    errors: int = 0
    timeouts: int = 0
    reconnects: int = 0
    lost_oks: int = 0


@dataclass(frozen=True)
class ProgramSummary:
    commands: int
    lines_sent: int
    resends: int
    errors: int
    reconnects: int
    duration_s: float

    def line(self) -> str:
        return (f"{self.commands} commands, {self.lines_sent} lines sent, {self.resends} resends, {self.errors} errors, "
                f"{self.reconnects} reconnects, {self.duration_s:.1f} s")


class MarlinDriver:
    """A Marlin-protocol dispenser at `url` (`/dev/ttyUSB0`, `socket://host:port`, `rfc2217://...`, `loop://`)."""

    def __init__(self, url: str, *, timeout_s: float = 10.0, move_timeout_s: float = 120.0,
                 on_event: Callable[[EventRecord], None] | None = None, device: str = "robot",
                 baudrate: int = 115200, reconnect_attempts: int = 5, backoff_s: float = 0.5,
                 max_backoff_s: float = 10.0, max_resends: int = 10, clock: Clock | None = None) -> None:
        self.url, self.device = url, device
        self.timeout_s, self.move_timeout_s = timeout_s, move_timeout_s
        self.reconnect_attempts, self.backoff_s, self.max_backoff_s = reconnect_attempts, backoff_s, max_backoff_s
        self.max_resends, self.baudrate = max_resends, baudrate
        self.stats = DriverStats()
        self._on_event = on_event
        self._clock = clock or RealClock()
        self._lock = threading.RLock()
        self._replies: queue.Queue[Reply | object] = queue.Queue()
        self._link: SerialLink | None = None
        self._line = 0
        self._history: dict[int, str] = {}
        self._suspect = False
        self._syringe_tracker = SyringeTracker()

    # -- connection ----------------------------------------------------------------------------------------

    def __enter__(self) -> MarlinDriver:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connected(self) -> bool:
        return self._link is not None and self._link.alive

    def connect(self) -> None:
        """Open the port (retrying with backoff) and reset line numbering with M110."""
        with self._lock:
            delay, last_exc = self.backoff_s, None
            for attempt in range(1, self.reconnect_attempts + 1):
                try:
                    self._open_once()
                    self._event("info", "connect", f"connected to {self.url} (attempt {attempt})")
                    return
                except RobotError as exc:
                    last_exc = exc
                    self._drop_link()
                    self._event("info", "connect_failed", f"attempt {attempt}: {exc}")
                    if attempt < self.reconnect_attempts:
                        time.sleep(delay)
                        delay = min(delay * 2, self.max_backoff_s)
            raise RobotConnectionError(
                f"robot at {self.url} did not answer after {self.reconnect_attempts} attempts: {last_exc}. "
                "Is the robot powered and the port/URL right?"
            )

    def close(self) -> None:
        with self._lock:
            if self._link is not None:
                self._event("info", "disconnect", "closed by host")
            self._drop_link()

    def _open_once(self) -> None:
        self._drop_link()
        self._suspect = False
        self._replies = queue.Queue()
        self._link = SerialLink(self.url, baudrate=self.baudrate, on_line=self._on_line, on_closed=self._on_closed)
        self._resync()

    def _resync(self) -> None:
        """Reset line numbers on both sides (M110 N0, sent without a number as Marlin allows)."""
        self._line = 0
        self._history.clear()
        for attempt in range(1, RESYNC_TRIES + 1):
            try:
                self._exchange("M110 N0", numbered=False, timeout_s=self.timeout_s)
                self._suspect = False
                return
            except CommandTimeout:
                if attempt == RESYNC_TRIES:
                    raise

    def _drop_link(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None

    def _reconnect(self, why: str) -> None:
        self.stats.reconnects += 1
        self._event("info", "reconnect", why)
        self._drop_link()
        self.connect()

    # -- reader-thread callbacks ---------------------------------------------------------------------------

    def _on_line(self, raw: str) -> None:
        reply = classify(raw)
        self.stats.lines_received += 1
        self._event("rx", reply.kind.value, reply.raw)
        if reply.kind not in {ReplyKind.echo, ReplyKind.garbage}:
            self._replies.put(reply)

    def _on_closed(self, exc: BaseException | None) -> None:
        self._event("info", "disconnect", f"link lost: {exc}")
        self._replies.put(_CLOSED)

    # -- the command/response exchange ---------------------------------------------------------------------

    def send(self, command: str, *, timeout_s: float | None = None) -> list[str]:
        """Send one command and wait for its `ok`; returns the data lines the firmware printed before it."""
        command = command.strip()
        code = command.split(maxsplit=1)[0].upper() if command else ""
        if not command or "\n" in command or "*" in command or not command.isascii():
            raise ValueError(f"not a single G-code command: {command!r}")
        if timeout_s is None:
            timeout_s = self.move_timeout_s if code in SLOW_COMMANDS else self.timeout_s
        with self._lock:
            if not self.connected or self._suspect:
                self._reconnect("link was down before sending" if not self.connected
                                else "the previous command ended without a clean reply; starting afresh")
            try:
                data = self._exchange(command, numbered=True, timeout_s=timeout_s)
            except _LinkLost as lost:
                in_flight = f"{command!r} (line {lost.line_number})"
                try:
                    self._reconnect(f"link lost while {in_flight} was in flight")
                except RobotConnectionError as exc:
                    raise RobotConnectionError(f"{exc} (in flight when the link dropped: {in_flight})") from exc
                if code not in SAFE_TO_REPEAT:
                    self._event("info", "interrupted", f"{in_flight} may or may not have run; not resent")
                    raise CommandInterrupted(
                        f"the link to {self.url} dropped while {in_flight} was in flight; it may or may not have "
                        "run and was NOT resent. Reconnected and re-synced; check the position/syringe (M114) "
                        "before continuing.", command=command, line_number=lost.line_number,
                    ) from None
                self._event("info", "repeat", f"repeating {in_flight} after reconnect (harmless to repeat)")
                data = self._exchange(command, numbered=True, timeout_s=timeout_s)
            move = self._syringe_tracker.after(command)
            if move is not None:
                self._event("info", move.verb, move.describe())
            return data

    def _exchange(self, command: str, *, numbered: bool, timeout_s: float) -> list[str]:
        self._drain_unsolicited()
        number = None
        if numbered:
            number = self._line + 1
            self._transmit(number, command)
        else:
            self._write(command)
        outstanding: list[int | None] = [number]
        data: list[str] = []
        pending_error, swallow, resends, probe, probes = None, 0, 0, None, 0
        probe_answered = False
        deadline = time.monotonic() + timeout_s
        while outstanding:
            try:
                reply = self._replies.get(timeout=max(deadline - time.monotonic(), 0.0))
            except queue.Empty:
                if probe_answered:
                    # The probe ran (its report came) but its ok was lost too: everything before it ran.
                    self._lost_ok(number, probe, outstanding)
                    break
                if numbered and probes < MAX_PROBES:
                    # No ok: send a harmless next line. If the firmware never got `number` it asks for a resend;
                    # if it did (and only the ok was lost), it answers the probe.
                    probes += 1
                    probe = self._line + 1
                    self._event("info", "timeout", f"no ok for line {number} within {timeout_s:g} s; "
                                                   f"probing with line {probe}")
                    self._transmit(probe, PROBE_COMMAND)
                    outstanding.append(probe)
                    deadline = time.monotonic() + timeout_s
                    continue
                self.stats.timeouts += 1
                self._suspect = True
                self._event("info", "timeout", f"no answer to {command!r} (line {number}) within {timeout_s:g} s")
                raise CommandTimeout(
                    f"the robot did not acknowledge {command!r} (line {number}) within {timeout_s:g} s; "
                    "is it still powered and connected?", command=command, line_number=number)
            if reply is _CLOSED:
                raise _LinkLost(number)
            assert isinstance(reply, Reply)
            if reply.kind is ReplyKind.busy:
                deadline = time.monotonic() + timeout_s
            elif reply.kind is ReplyKind.start:
                self._syringe_tracker.reset()
                raise _LinkLost(number)
            elif reply.kind is ReplyKind.error:
                pending_error = reply.text
            elif reply.kind is ReplyKind.data:
                if probe is not None and reply.text.startswith(PROBE_REPLY):
                    probe_answered = True
                elif len(data) < MAX_DATA_LINES:
                    data.append(reply.text)
            elif reply.kind is ReplyKind.resend:
                pending_error = None
                swallow += 1
                resends += 1
                self.stats.resends += 1
                if resends > self.max_resends:
                    self._suspect = True
                    raise ResendLimitError(
                        f"the robot asked to resend {resends} times while sending {command!r}; the serial link "
                        "is too noisy to continue safely (check the cable, baud rate and grounding)")
                outstanding = self._retransmit_from(reply.line_number, command)
            elif reply.kind is ReplyKind.ok:
                if swallow:
                    swallow -= 1
                    continue
                if pending_error is not None:
                    self.stats.errors += 1
                    raise FirmwareError(f"the robot refused {command!r}: {pending_error}", command=command,
                                        line_number=number, firmware_message=pending_error)
                acked = _ok_line_number(reply.text)
                if acked is not None:
                    outstanding = [n for n in outstanding if n is not None and n > acked]
                elif probe_answered and outstanding[-1] == probe:
                    self._lost_ok(number, probe, outstanding[:-1])
                    outstanding = []
                else:
                    outstanding.pop(0)
        return data

    def _lost_ok(self, number: int | None, probe: int | None, unacked: list[int | None]) -> None:
        if unacked:
            self.stats.lost_oks += len(unacked)
            self._event("info", "lost_ok", f"no ok came for line(s) {unacked}; the firmware answered line {probe}, "
                                           f"so line {number} was executed")

    def _retransmit_from(self, first: int | None, command: str) -> list[int | None]:
        if first is None or first not in self._history or first > self._line:
            self._suspect = True
            raise RobotError(f"the robot asked to resend line {first} while sending {command!r}, but the host "
                             f"sent lines up to {self._line}; line numbers are out of sync (reconnect to fix)")
        self._event("info", "resend", f"resending lines {first}..{self._line}")
        for n in range(first, self._line + 1):
            self._write(self._history[n])
        return list(range(first, self._line + 1))

    def _transmit(self, number: int, command: str) -> None:
        framed = frame_line(number, command)
        self._line = number
        self._history[number] = framed
        self._history.pop(number - HISTORY, None)
        self._write(framed)

    def _write(self, text: str) -> None:
        if self._link is None:
            raise _LinkLost(self._line)
        self._event("tx", "line", text)
        self.stats.lines_sent += 1
        try:
            self._link.write_line(text)
        except RobotConnectionError:
            raise _LinkLost(self._line) from None

    def _drain_unsolicited(self) -> None:
        while True:
            try:
                reply = self._replies.get_nowait()
            except queue.Empty:
                return
            if reply is _CLOSED:
                raise _LinkLost(None)

    def _event(self, direction: str, kind: str, payload: str) -> None:
        if self._on_event is not None:
            self._on_event(EventRecord(ts=self._clock.now(), device=self.device, direction=direction,
                                       payload=payload[:2000], kind=kind))

    # -- domain verbs --------------------------------------------------------------------------------------

    def position(self) -> Position:
        """Axis positions (mm) and syringe volume (mL) from M114."""
        lines = self.send("M114")
        pos = parse_position(lines)
        if pos is None:
            raise RobotError(f"M114 returned no position report (got {lines!r})")
        return pos

    def home(self) -> None:
        self.send("G28")

    def move_to(self, x: float | None = None, y: float | None = None, z: float | None = None,
                feed: float | None = None) -> None:
        """Move (absolute coordinates, mm; feed in mm/min) to the given axes; others stay where they are."""
        words = [f"{axis}{_num(value, axis)}" for axis, value in zip("XYZF", (x, y, z, feed)) if value is not None]
        if not any(w[0] in "XYZ" for w in words):
            raise ValueError("move_to needs at least one of x, y, z")
        self.send("G90")
        self.send("G0 " + " ".join(words))

    def aspirate(self, ml: float, *, feed: float = 5.0) -> Position:
        """Draw `ml` mL into the syringe (absolute E grows); returns the position afterwards."""
        return self._syringe(+_positive(ml), feed, "aspirate")

    def dispense(self, ml: float | None = None, *, feed: float = 5.0) -> Position:
        """Push out `ml` mL (all of it when None); returns the position afterwards."""
        return self._syringe(None if ml is None else -_positive(ml), feed, "dispense")

    def wait_idle(self) -> None:
        """Block until every queued move has finished (M400)."""
        self.send("M400")

    def _syringe(self, delta: float | None, feed: float, verb: str) -> Position:
        with self._lock:
            self.send("M82")
            before = self.position()
            target = 0.0 if delta is None else before.e + delta
            if target < -1e-9:
                raise ValueError(f"cannot {verb} {-delta:g} mL: the syringe holds only {before.e:g} mL")
            self.send(f"G1 E{_num(target, 'E')} F{_num(feed, 'F')}")
            return replace(before, e=target)

    def run_gcode(self, lines: Iterable[str], *, progress: Callable[[int, int, str], None] | None = None,
                  limits: GCodeLimits | None = None, source: str = "G-code",
                  stop: threading.Event | None = None) -> ProgramSummary:
        """Check the whole program first (nothing is sent if any line is bad), then send it command by command.
        `progress(done, total, command)` is called after each acknowledged command."""
        commands = parse_program(list(lines), limits=limits, source=source)
        return self.run_program(commands, progress=progress, source=source, stop=stop)

    def run_program(self, commands: list[GCodeCommand], *, progress: Callable[[int, int, str], None] | None = None,
                    source: str = "G-code", stop: threading.Event | None = None) -> ProgramSummary:
        """Send already-checked commands; `stop` ends the program between two commands (`ProgramStopped`)."""
        start, before = time.monotonic(), replace(self.stats)
        with self._lock:
            for i, cmd in enumerate(commands, start=1):
                if stop is not None and stop.is_set():
                    self._event("info", "program", f"stopped before line {cmd.line_no} of {source}")
                    raise ProgramStopped(f"{source} stopped on request before line {cmd.line_no} ({cmd.text}); "
                                         f"{i - 1} of {len(commands)} commands were sent")
                try:
                    if cmd.code == "M110":
                        self._resync()
                    else:
                        self.send(cmd.text)
                except RobotError as exc:
                    exc.add_note(f"at line {cmd.line_no} of {source}: {cmd.text}")
                    raise
                if progress:
                    progress(i, len(commands), cmd.text)
        s = self.stats
        return ProgramSummary(commands=len(commands), lines_sent=s.lines_sent - before.lines_sent,
                              resends=s.resends - before.resends, errors=s.errors - before.errors,
                              reconnects=s.reconnects - before.reconnects, duration_s=time.monotonic() - start)


class _LinkLost(RobotConnectionError):
    """Internal: the link dropped (or the firmware restarted) during an exchange."""

    def __init__(self, line_number: int | None) -> None:
        super().__init__(f"the robot link dropped (line {line_number} in flight)")
        self.line_number = line_number


def _ok_line_number(text: str) -> int | None:
    """ADVANCED_OK firmwares say `ok N12 P15 B3`; plain `ok` carries no number."""
    for word in text.split():
        if word[:1] in "Nn" and word[1:].isdigit():
            return int(word[1:])
    return None


def _num(value: float, axis: str) -> str:
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{axis} must be a finite number, got {value}")
    return f"{value:.4f}".rstrip("0").rstrip(".") or "0"


def _positive(ml: float) -> float:
    ml = float(ml)
    if not math.isfinite(ml) or ml <= 0:
        raise ValueError(f"volume must be a positive number of mL, got {ml}")
    return ml
