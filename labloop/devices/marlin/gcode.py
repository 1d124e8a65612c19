"""Reading and checking a G-code program before anything is sent: unknown commands, missing or malformed
parameters and absurd volumes are refused with their line numbers. The E axis is syringe volume in mL."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from labloop.devices.marlin.errors import RobotError

MAX_GCODE_LINE = 256

# command -> (allowed parameter letters, letters of which at least one is required, letters that may be bare)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "G0": ("XYZEF", "XYZEF", ""),
    "G1": ("XYZEF", "XYZEF", ""),
    "G2": ("XYZEFIJRP", "IJR", ""),
    "G3": ("XYZEFIJRP", "IJR", ""),
    "G4": ("PS", "PS", ""),
    "G21": ("", "", ""),
    "G28": ("XYZ", "", "XYZ"),
    "G90": ("", "", ""),
    "G91": ("", "", ""),
    "G92": ("XYZE", "XYZE", ""),
    "M17": ("XYZE", "", "XYZE"),
    "M18": ("XYZES", "", "XYZE"),
    "M84": ("XYZES", "", "XYZE"),
    "M82": ("", "", ""),
    "M83": ("", "", ""),
    "M92": ("XYZE", "XYZE", ""),
    "M105": ("", "", ""),
    "M110": ("N", "N", ""),
    "M114": ("", "", ""),
    "M115": ("", "", ""),
    "M300": ("SP", "", ""),
    "M302": ("SP", "", ""),
    "M400": ("", "", ""),
}

_WORD = re.compile(r"([A-Z])\s*([-+]?(?:\d+\.?\d*|\.\d+))?")
_EXPONENT_LIKE = re.compile(r"\d\.?E[-+]?\d+")  # "1E9" / "1.E-3": a number glued to an E word


@dataclass(frozen=True)
class GCodeLimits:
    """What counts as absurd: volumes beyond the syringe, coordinates beyond any bench robot, silly feeds."""

    max_volume_ml: float = 10.0
    max_coordinate_mm: float = 1000.0
    max_feed: float = 100_000.0


@dataclass(frozen=True)
class GCodeCommand:
    line_no: int
    text: str
    code: str
    params: dict[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class GCodeProblem:
    line_no: int
    line: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line_no}: {self.reason} ({self.line.strip()[:60]!r})"


class GCodeValidationError(RobotError):
    """The program was refused before anything was sent; `problems` lists every offending line."""

    def __init__(self, problems: list[GCodeProblem], source: str = "G-code") -> None:
        self.problems = problems
        shown = "\n  ".join(str(p) for p in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{source} refused, nothing was sent ({len(problems)} problem(s)):\n  {shown}{more}")


def strip_comment(line: str) -> str:
    return re.sub(r"\([^)]*\)", "", line.split(";", 1)[0]).strip()


def parse_program(lines: Iterable[str], *, limits: GCodeLimits | None = None,
                  source: str = "G-code") -> list[GCodeCommand]:
    """Every command of a program, checked; raises `GCodeValidationError` listing all problems."""
    limits = limits or GCodeLimits()
    commands: list[GCodeCommand] = []
    problems: list[GCodeProblem] = []
    e_relative, volume = False, 0.0
    for line_no, raw in enumerate(lines, start=1):
        try:
            command = _parse_line(line_no, raw, limits)
        except _Refused as exc:
            problems.append(GCodeProblem(line_no, raw, str(exc)))
            continue
        if command is None:
            continue
        code, p = command.code, command.params
        if code in {"G90", "M82"}:
            e_relative = False
        elif code in {"G91", "M83"}:
            e_relative = True
        elif code == "G92" and p.get("E") is not None:
            volume = p["E"]
        elif code in {"G0", "G1", "G2", "G3"} and p.get("E") is not None:
            volume = volume + p["E"] if e_relative else p["E"]
            if volume < -1e-9:
                problems.append(GCodeProblem(line_no, raw, f"dispenses below an empty syringe (E would be "
                                                           f"{volume:g} mL)"))
            elif volume > limits.max_volume_ml:
                problems.append(GCodeProblem(line_no, raw, f"absurd volume: E would be {volume:g} mL, more than "
                                                           f"the {limits.max_volume_ml:g} mL syringe limit"))
        commands.append(command)
    if not commands and not problems:
        problems.append(GCodeProblem(0, "", "the program contains no commands"))
    if problems:
        raise GCodeValidationError(problems, source)
    return commands


class _Refused(ValueError):
    pass


def _parse_line(line_no: int, raw: str, limits: GCodeLimits) -> GCodeCommand | None:
    if len(raw) > MAX_GCODE_LINE:
        raise _Refused(f"line is {len(raw)} characters long (at most {MAX_GCODE_LINE})")
    if not raw.isascii() or any(ord(c) < 32 and c not in "\t\r\n" for c in raw):
        raise _Refused("contains non-ASCII or control characters")
    text = strip_comment(raw).upper()
    if not text:
        return None
    if text.startswith("N") or "*" in text:
        raise _Refused("line numbers and checksums are added by the driver; remove the N.../*... parts")
    glued = _EXPONENT_LIKE.search(text)
    if glued:
        raise _Refused(f"{glued.group(0)!r} looks like scientific notation, but the firmware reads the E as a syringe "
                       "move (X1E9 = X1 E9); write plain decimals, with a space before an E parameter")
    words, pos = [], 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        match = _WORD.match(text, pos)
        if not match:
            raise _Refused(f"cannot read {text[pos:pos + 12]!r}")
        words.append((match.group(1), match.group(2)))
        pos = match.end()
    (letter, number), *params = words
    if letter not in "GM" or number is None:
        raise _Refused(f"a command must start with G or M and a number, not {letter}{number or ''}")
    code = f"{letter}{int(float(number))}" if float(number).is_integer() else f"{letter}{number}"
    if code not in COMMANDS:
        raise _Refused(f"unknown command {code}")
    allowed, required, bare = COMMANDS[code]
    values: dict[str, float | None] = {}
    for name, value in params:
        if name not in allowed:
            raise _Refused(f"{code} does not take parameter {name}")
        if name in values:
            raise _Refused(f"parameter {name} given twice")
        if value is None and name not in bare:
            raise _Refused(f"parameter {name} of {code} has no value")
        values[name] = None if value is None else float(value)
        _check_value(code, name, values[name], limits)
    if required and not set(required) & values.keys():
        raise _Refused(f"{code} needs at least one of {', '.join(required)}")
    return GCodeCommand(line_no, " ".join(f"{n}{v or ''}" for n, v in [(letter, code[1:]), *params]), code, values)


def _check_value(code: str, name: str, value: float | None, limits: GCodeLimits) -> None:
    if value is None:
        return
    if not math.isfinite(value):
        raise _Refused(f"{name} is not a finite number")
    if name == "F" and not 0 < value <= limits.max_feed:
        raise _Refused(f"feed rate F{value:g} must be above 0 and at most {limits.max_feed:g}")
    if name in "XYZIJR" and abs(value) > limits.max_coordinate_mm:
        raise _Refused(f"absurd coordinate {name}{value:g} (beyond {limits.max_coordinate_mm:g} mm)")
    if name in "PS" and code in {"G4"} and value < 0:
        raise _Refused("a dwell cannot be negative")
    if code == "M92" and value <= 0:
        raise _Refused(f"steps per unit {name}{value:g} must be positive")
