"""Serving the virtual dispenser on a real TCP socket or pseudo-terminal, one client at a time, with move
timing scaled by a speed factor and the fault knobs applied. `robot_simulator()` yields the URL to connect to."""

from __future__ import annotations

import logging
import os
import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse

from labloop.devices.simulator.faults import FaultPlan
from labloop.devices.simulator.firmware import MachineLimits, Outcome, VirtualDispenser

log = logging.getLogger(__name__)


class _PeerGone(Exception):
    pass


class _Channel:
    """Bytes to and from one client: a socket connection or a pty master."""

    def __init__(self, *, sock: socket.socket | None = None, fd: int | None = None) -> None:
        self.sock, self.fd = sock, fd

    def read(self, timeout: float) -> bytes:
        handle = self.sock if self.sock is not None else self.fd
        try:
            ready, _, _ = select.select([handle], [], [], timeout)
        except (OSError, ValueError) as exc:  # closed underneath us by stop()
            raise _PeerGone(str(exc)) from exc
        if not ready:
            return b""
        try:
            data = self.sock.recv(4096) if self.sock is not None else os.read(self.fd, 4096)
        except OSError as exc:
            raise _PeerGone(str(exc)) from exc
        if not data and self.sock is not None:
            raise _PeerGone("client closed the connection")
        return data

    def write(self, data: bytes) -> None:
        try:
            if self.sock is not None:
                self.sock.sendall(data)
            else:
                os.write(self.fd, data)
        except OSError as exc:
            raise _PeerGone(str(exc)) from exc


class RobotSimulator:
    """A virtual Marlin dispenser on `listen` ('socket://127.0.0.1:PORT', port 0 = any free one, or 'pty')."""

    def __init__(self, listen: str = "socket://127.0.0.1:0", *, faults: str | FaultPlan | None = None,
                 speed: float = 1.0, seed: int = 0, limits: MachineLimits | None = None) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be a positive factor (1 = real time), got {speed}")
        self.faults = faults if isinstance(faults, FaultPlan) else FaultPlan.parse(faults, seed=seed)
        self.speed = speed
        self.firmware = VirtualDispenser(limits)
        self.lines_received = 0
        self.connections = 0
        self._stop = threading.Event()
        self._muted = False
        self._listen = listen
        self._server: socket.socket | None = None
        self._pty: tuple[int, int] | None = None
        self.url = self._bind(listen)
        self._thread = threading.Thread(target=self._serve, name=f"robot-sim {self.url}", daemon=True)

    def _bind(self, listen: str) -> str:
        if listen == "pty":
            import tty

            master, slave = os.openpty()
            tty.setraw(slave)
            self._pty = (master, slave)
            return os.ttyname(slave)
        parsed = urlparse(listen)
        if parsed.scheme != "socket" or not parsed.hostname:
            raise ValueError(f"cannot listen on {listen!r}: use socket://HOST:PORT or pty")
        server = socket.create_server((parsed.hostname, parsed.port or 0))
        self._server = server
        host, port = server.getsockname()[:2]
        return f"socket://{host}:{port}"

    def start(self) -> RobotSimulator:
        self._thread.start()
        log.info("simulated robot listening on %s (speed x%g, faults: %s)", self.url, self.speed,
                 self.faults.describe())
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        if self._server is not None:
            self._server.close()
        if self._pty is not None:
            for fd in self._pty:
                os.close(fd)
            self._pty = None

    def serve_forever(self) -> None:
        """Block until stopped (the CLI's Ctrl-C)."""
        self._thread.join()

    def _serve(self) -> None:
        if self._pty is not None:
            self._handle(_Channel(fd=self._pty[0]), pty=True)
            return
        assert self._server is not None
        while not self._stop.is_set():
            ready, _, _ = select.select([self._server], [], [], 0.1)
            if not ready:
                continue
            conn, peer = self._server.accept()
            self.connections += 1
            log.info("robot simulator: client %s connected", peer)
            with conn:
                self._handle(_Channel(sock=conn), pty=False)

    def _handle(self, channel: _Channel, *, pty: bool) -> None:
        buf = bytearray()
        try:
            while not self._stop.is_set():
                buf += channel.read(0.1)
                while (end := buf.find(b"\n")) >= 0:
                    raw, buf = bytes(buf[:end]), buf[end + 1:]
                    if not self._answer(channel, raw.decode("ascii", errors="replace"), pty=pty):
                        return
        except _PeerGone as exc:
            log.info("robot simulator: client left (%s)", exc)

    def _answer(self, channel: _Channel, line: str, *, pty: bool) -> bool:
        """Handle one received line; False when the connection must close."""
        if not line.strip():
            return True
        self.lines_received += 1
        n, faults = self.lines_received, self.faults
        if self._muted or faults.fires("mute", n):
            self._muted = True
            return True
        if faults.fires("reset", n):
            self._say(channel, self.firmware.restart())
            return True
        if line.startswith("N") and faults.fires("corrupt", n):
            line = _flip_a_byte(line)
        outcome = self.firmware.process(line)
        if faults.fires("garbage", n):
            channel.write(faults.garbage_bytes())
        if faults.fires("echo", n):
            self._say(channel, [f"echo:unsolicited message {i}" for i in range(faults.flood)])
        self._say(channel, outcome.lines)
        self._work(channel, outcome, busy=faults.fires("busy", n))
        if faults.fires("disconnect", n):
            if pty:
                self._say(channel, self.firmware.restart())
                return True
            log.info("robot simulator: dropping the connection after line %d (fault)", n)
            return False
        if outcome.ok is not None and not faults.fires("drop_ok", n):
            self._say(channel, [outcome.ok])
        return True

    def _work(self, channel: _Channel, outcome: Outcome, *, busy: bool) -> None:
        """Take the machine time of the command (scaled by speed), sending keepalives like Marlin does."""
        remaining = outcome.duration_s / self.speed + (self.faults.busy_s if busy else 0.0)
        keepalive = self.faults.keepalive_s
        while remaining > 0 and not self._stop.is_set():
            step = min(remaining, keepalive) if keepalive > 0 else remaining
            time.sleep(step)
            remaining -= step
            if remaining > 0 and keepalive > 0:
                self._say(channel, ["echo:busy: processing"])

    def _say(self, channel: _Channel, lines: list[str]) -> None:
        if lines:
            channel.write("".join(f"{line}\n" for line in lines).encode("ascii"))


def _flip_a_byte(line: str) -> str:
    i = len(line) // 2
    return line[:i] + chr(ord(line[i]) ^ 0x01) + line[i + 1:]


@contextmanager
def robot_simulator(listen: str = "socket://127.0.0.1:0", *, faults: str | FaultPlan | None = None,
                    speed: float = 1.0, seed: int = 0, limits: MachineLimits | None = None) -> Iterator[str]:
    """Run a simulated robot in a thread for the duration of the block; yields the URL for `MarlinDriver`."""
    with running_simulator(listen, faults=faults, speed=speed, seed=seed, limits=limits) as sim:
        yield sim.url


@contextmanager
def running_simulator(listen: str = "socket://127.0.0.1:0", **kwargs: object) -> Iterator[RobotSimulator]:
    """Like `robot_simulator` but yields the simulator itself (its firmware state, counters)."""
    sim = RobotSimulator(listen, **kwargs).start()  # type: ignore[arg-type]
    try:
        yield sim
    finally:
        sim.stop()
