"""The Marlin/RepRap serial protocol on the wire: numbered lines with XOR checksums (`N5 G1 X10*NN`), and the
kinds of line a firmware answers with (`ok`, `Resend: N`, `Error:`, `busy:`, `echo:`, position reports)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

MAX_LINE_CHARS = 1024


def checksum(text: str) -> int:
    """Marlin's checksum: XOR of every byte before the `*`."""
    value = 0
    for byte in text.encode("ascii", errors="replace"):
        value ^= byte
    return value


def frame_line(number: int, command: str) -> str:
    """`N<number> <command>*<checksum>`, the form Marlin accepts with line-number checking."""
    body = f"N{number} {command}"
    return f"{body}*{checksum(body)}"


class ReplyKind(StrEnum):
    ok = "ok"
    resend = "resend"
    error = "error"
    busy = "busy"
    echo = "echo"
    start = "start"
    data = "data"
    garbage = "garbage"


@dataclass(frozen=True)
class Reply:
    """One received line, classified. `line_number` is set for `resend`; `text` is the rest of the line."""

    kind: ReplyKind
    raw: str
    text: str = ""
    line_number: int | None = None


_RESEND = re.compile(r"^(?:resend|rs)\s*:?\s*N?\s*(\d+)\s*$", re.IGNORECASE)
_PRINTABLE = re.compile(r"^[\x20-\x7e\t]*$")


def classify(raw: str) -> Reply:
    """What a received line means. Never raises: anything unrecognised is `data` or `garbage`."""
    line = raw.strip()
    if not _PRINTABLE.match(line) or len(line) > MAX_LINE_CHARS:
        return Reply(ReplyKind.garbage, raw, line[:MAX_LINE_CHARS])
    lower = line.lower()
    if lower == "ok" or lower.startswith("ok "):
        return Reply(ReplyKind.ok, raw, line[2:].strip())
    if match := _RESEND.match(line):
        return Reply(ReplyKind.resend, raw, line, int(match.group(1)))
    if lower.startswith("error:") or lower.startswith("!!"):
        return Reply(ReplyKind.error, raw, line.split(":", 1)[-1].strip() if ":" in line else line[2:].strip())
    body = line[5:].lstrip() if lower.startswith("echo:") else line
    if body.lower().startswith("busy:"):
        return Reply(ReplyKind.busy, raw, body[5:].strip())
    if lower.startswith("echo:") or lower.startswith("//"):
        return Reply(ReplyKind.echo, raw, body)
    if lower == "start":
        return Reply(ReplyKind.start, raw, line)
    return Reply(ReplyKind.data, raw, line)


@dataclass(frozen=True)
class Position:
    """Axis positions in mm and the syringe volume `e` in mL, as reported by M114."""

    x: float
    y: float
    z: float
    e: float


_AXIS = re.compile(r"\b([XYZE]):\s*(-?\d+(?:\.\d+)?)")


def parse_position(lines: list[str]) -> Position | None:
    """The first M114 report among `lines` (the part before ` Count`); None when there is none."""
    for line in lines:
        head = line.split("Count", 1)[0]
        axes = {k: float(v) for k, v in _AXIS.findall(head)}
        if {"X", "Y", "Z", "E"} <= axes.keys():
            return Position(axes["X"], axes["Y"], axes["Z"], axes["E"])
    return None
