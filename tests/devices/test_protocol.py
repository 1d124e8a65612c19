"""The wire format: checksums, classification of replies (fuzzed), position reports, line splitting."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labloop.devices.marlin.link import SerialLink
from labloop.devices.marlin.protocol import (
    MAX_LINE_CHARS,
    ReplyKind,
    checksum,
    classify,
    frame_line,
    parse_position,
)


def test_checksum_matches_marlin_examples() -> None:
    expected = 0
    for byte in b"N1 M114":
        expected ^= byte
    assert checksum("N1 M114") == expected == 38
    assert frame_line(1, "M114") == "N1 M114*38"
    assert frame_line(0, "M110 N0") == "N0 M110 N0*125"


@pytest.mark.parametrize(
    ("line", "kind", "number"),
    [
        ("ok", ReplyKind.ok, None),
        ("ok T:25.0 /0.0", ReplyKind.ok, None),
        ("Resend: 12", ReplyKind.resend, 12),
        ("rs N7", ReplyKind.resend, 7),
        ("Error:checksum mismatch, Last Line: 3", ReplyKind.error, None),
        ("!! kill", ReplyKind.error, None),
        ("echo:busy: processing", ReplyKind.busy, None),
        ("busy: paused for user", ReplyKind.busy, None),
        ("echo:Unknown command: \"G7\"", ReplyKind.echo, None),
        ("// action:pause", ReplyKind.echo, None),
        ("start", ReplyKind.start, None),
        ("X:1.00 Y:2.00 Z:3.00 E:0.0300 Count X:80 Y:160 Z:1200", ReplyKind.data, None),
        ("\x00\xff\x01ok", ReplyKind.garbage, None),
        ("ok\ufffd", ReplyKind.garbage, None),
        ("x" * (MAX_LINE_CHARS + 1), ReplyKind.garbage, None),
    ],
)
def test_classify(line: str, kind: ReplyKind, number: int | None) -> None:
    reply = classify(line)
    assert reply.kind is kind
    assert reply.line_number == number


def test_okay_is_not_ok_and_resend_needs_a_number() -> None:
    assert classify("okay then").kind is ReplyKind.data
    assert classify("Resend: soon").kind is ReplyKind.data


@given(st.text(max_size=300))
def test_classify_never_raises_on_any_text(text: str) -> None:
    reply = classify(text)
    assert reply.kind in ReplyKind
    if reply.kind is ReplyKind.resend:
        assert reply.line_number is not None and reply.line_number >= 0


@given(st.binary(max_size=300))
def test_classify_never_raises_on_decoded_bytes(data: bytes) -> None:
    assert classify(data.decode("ascii", errors="replace")).kind in ReplyKind


def test_parse_position() -> None:
    pos = parse_position(["echo:hi", "X:10.50 Y:-2.00 Z:5.00 E:0.0250 Count X:840 Y:-160 Z:2000"])
    assert pos is not None and (pos.x, pos.y, pos.z, pos.e) == (10.5, -2.0, 5.0, 0.025)
    assert parse_position(["X:1 Y:2"]) is None
    assert parse_position([]) is None


def _collect(chunks: list[bytes]) -> list[str]:
    """Feed raw bytes through a real pyserial loop:// port and the reader thread; return the lines it made."""
    lines: list[str] = []
    link = SerialLink("loop://", baudrate=115200, on_line=lines.append, on_closed=lambda exc: None)
    try:
        for chunk in chunks:
            link._port.write(chunk)
        time.sleep(0.15)
    finally:
        link.close()
    return lines


def test_reader_splits_lines_and_keeps_half_lines_waiting() -> None:
    lines = _collect([b"ok\r\nX:1", b".00 Y:2.00\n", b"half line without newline"])
    assert lines == ["ok", "X:1.00 Y:2.00"]


def test_reader_reports_overlong_runs_as_garbage() -> None:
    lines = _collect([b"A" * (MAX_LINE_CHARS + 10) + b"\nok\n"])
    assert classify(lines[0]).kind is ReplyKind.garbage
    assert lines[-1] == "ok"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=200), max_size=5))
def test_reader_survives_arbitrary_bytes(chunks: list[bytes]) -> None:
    lines: list[str] = []
    closed = threading.Event()
    link = SerialLink("loop://", baudrate=115200, on_line=lines.append, on_closed=lambda exc: closed.set())
    try:
        for chunk in chunks:
            link._port.write(chunk)
        link._port.write(b"\nok\n")
        deadline = time.monotonic() + 2
        while (not lines or lines[-1] != "ok") and time.monotonic() < deadline:
            time.sleep(0.005)
    finally:
        link.close()
    assert lines and lines[-1] == "ok"
    assert not closed.is_set()
    for line in lines:
        classify(line)
