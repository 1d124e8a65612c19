"""Following the syringe (E axis, mL) through acknowledged commands, so that every aspirate and dispense is
recorded with its volume, whether it came from a domain verb or from a G-code program."""

from __future__ import annotations

import re
from dataclasses import dataclass

from labloop.devices.marlin.gcode import strip_comment

MIN_ML = 1e-9
_DESCRIBED = re.compile(r"^(aspirate|dispense) ([0-9.eE+-]+) mL\b")


@dataclass(frozen=True)
class SyringeMove:
    verb: str  # aspirate or dispense
    ml: float
    before: float
    after: float

    def describe(self) -> str:
        return f"{self.verb} {self.ml:g} mL (E {self.before:g} -> {self.after:g})"


def volume_ml(payload: str) -> float | None:
    """The volume of a recorded syringe move (the payload `SyringeMove.describe` wrote), else None."""
    match = _DESCRIBED.match(payload)
    return float(match.group(2)) if match else None


class SyringeTracker:
    """Marlin's E bookkeeping: G90/G91 set all axes absolute/relative, M82/M83 override E alone, G92 E sets it."""

    def __init__(self) -> None:
        self.e = 0.0
        self.absolute = True

    def reset(self) -> None:
        """The firmware restarted: E is zero and absolute again."""
        self.e, self.absolute = 0.0, True

    def after(self, command: str) -> SyringeMove | None:
        """Update from a command the firmware acknowledged; the syringe move it made, if any."""
        words = strip_comment(command).upper().split()
        if not words:
            return None
        code, e_word = words[0], next((w[1:] for w in words[1:] if w.startswith("E")), None)
        if code in {"G90", "M82"}:
            self.absolute = True
        elif code in {"G91", "M83"}:
            self.absolute = False
        elif code == "G92" and e_word is not None:
            self.e = float(e_word)
        elif code in {"G0", "G1"} and e_word is not None:
            before = self.e
            self.e = float(e_word) if self.absolute else before + float(e_word)
            delta = self.e - before
            if abs(delta) > MIN_ML:
                return SyringeMove("aspirate" if delta > 0 else "dispense", abs(delta), before, self.e)
        return None
