"""The thin I/O layer under the driver: a pyserial `serial_for_url` port and a reader thread that splits the
byte stream into lines (half lines wait for their newline; overlong runs without one are reported as garbage)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import serial

from labloop.devices.marlin.errors import RobotConnectionError
from labloop.devices.marlin.protocol import MAX_LINE_CHARS

log = logging.getLogger(__name__)


class SerialLink:
    """One open connection. `on_line` gets every complete line (decoded, CR stripped), `on_closed` is called once
    when the peer goes away or the port fails; both run on the reader thread."""

    def __init__(self, url: str, *, baudrate: int, on_line: Callable[[str], None],
                 on_closed: Callable[[BaseException | None], None], read_timeout_s: float = 0.05) -> None:
        self.url = url
        self._on_line, self._on_closed = on_line, on_closed
        try:
            self._port = serial.serial_for_url(url, baudrate=baudrate, timeout=read_timeout_s, write_timeout=5)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise RobotConnectionError(f"cannot open robot port {url!r}: {exc}") from exc
        self._closing = threading.Event()
        self._closed_reported = False
        self._thread = threading.Thread(target=self._read_loop, name=f"marlin-reader {url}", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and not self._closing.is_set()

    def write_line(self, text: str) -> None:
        try:
            self._port.write(text.encode("ascii") + b"\n")
            self._port.flush()
        except (serial.SerialException, OSError) as exc:
            self._report_closed(exc)
            raise RobotConnectionError(f"writing to {self.url} failed: {exc}") from exc

    def close(self) -> None:
        self._closing.set()
        try:
            self._port.close()
        except (serial.SerialException, OSError):
            pass
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=2)

    def _read_loop(self) -> None:
        buf = bytearray()
        while not self._closing.is_set():
            try:
                chunk = self._port.read(self._port.in_waiting or 1)
            except (serial.SerialException, OSError, TypeError, AttributeError, ValueError) as exc:
                # TypeError/AttributeError/ValueError: pyserial's handlers after close() from another thread
                if not self._closing.is_set():
                    self._report_closed(exc)
                return
            if not chunk:
                continue
            buf += chunk
            while (end := buf.find(b"\n")) >= 0:
                line, buf = bytes(buf[:end]), buf[end + 1:]
                self._on_line(line.decode("ascii", errors="replace").rstrip("\r"))
            if len(buf) > MAX_LINE_CHARS:
                self._on_line(buf[:MAX_LINE_CHARS].decode("ascii", errors="replace") + "\ufffd")
                buf.clear()

    def _report_closed(self, exc: BaseException | None) -> None:
        if not self._closed_reported:
            self._closed_reported = True
            log.warning("robot link %s closed: %s", self.url, exc)
            self._on_closed(exc)
