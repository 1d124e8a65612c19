"""Adversarial serial peers for driver tests: a real TCP server whose answers are scripted per test."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def scripted_peer(answer: Callable[[str, socket.socket], None]) -> Iterator[str]:
    """Serve on 127.0.0.1; `answer(line, conn)` is called for every line received and writes whatever it likes."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            conn.settimeout(0.1)
            buf = b""
            with conn:
                while not stop.is_set():
                    try:
                        chunk = conn.recv(4096)
                    except TimeoutError:
                        continue
                    except OSError:
                        break
                    if not chunk:
                        break
                    buf += chunk
                    while b"\n" in buf:
                        line, buf = buf.split(b"\n", 1)
                        try:
                            answer(line.decode(), conn)
                        except OSError:
                            break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"socket://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=2)
        server.close()


def ok_to(prefix: str, conn: socket.socket, line: str, extra: bytes = b"") -> None:
    """Answer `ok` (after `extra`) to lines that contain `prefix`."""
    if prefix in line:
        conn.sendall(extra + b"ok\n")
