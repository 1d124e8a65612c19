"""Parsing the human quantities used in device specs and CLI options: durations ("90s", "12h", "1h30m")
and lengths ("3mm", "0.5cm")."""

from __future__ import annotations

import math
import re

_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_LENGTH_UNITS = {"mm": 1.0, "cm": 10.0, "m": 1000.0, "um": 0.001}
_PART = re.compile(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z]*)")


def _parse(text: str, units: dict[str, float], default_unit: str, what: str) -> float:
    raw = text.strip()
    if not raw:
        raise ValueError(f"empty {what}")
    sign = -1.0 if raw.startswith("-") else 1.0
    rest, total, pos = raw.lstrip("+-"), 0.0, 0
    while pos < len(rest):
        match = _PART.match(rest, pos)
        if not match or match.end() == pos:
            raise ValueError(f"cannot read {what} {text!r}: expected e.g. {_example(units)}")
        number, unit = float(match.group(1)), (match.group(2) or default_unit).lower()
        if unit not in units:
            raise ValueError(f"unknown unit {unit!r} in {what} {text!r}; use one of {', '.join(units)}")
        total += number * units[unit]
        pos = match.end()
    if not math.isfinite(total):
        raise ValueError(f"{what} {text!r} is not a finite number")
    return sign * total


def _example(units: dict[str, float]) -> str:
    return "'90s', '12h', '1h30m'" if "h" in units else "'3mm', '0.5cm'"


def parse_duration(text: str | float | int) -> float:
    """Seconds from '60s', '5m', '12h', '1h30m', '250ms' or a bare number of seconds."""
    if isinstance(text, int | float):
        return float(text)
    return _parse(text, _DURATION_UNITS, "s", "duration")


def parse_length_mm(text: str | float | int) -> float:
    """Millimetres from '3mm', '0.5cm' or a bare number of millimetres."""
    if isinstance(text, int | float):
        return float(text)
    return _parse(text, _LENGTH_UNITS, "mm", "length")
