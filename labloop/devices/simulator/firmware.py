"""The virtual dispenser's firmware: Marlin's line-number/checksum rules and a syringe robot's state (XYZ in
mm inside a build volume, E = syringe volume in mL). Pure logic, no I/O: `process(line)` says what to answer
and how long the machine is busy."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from labloop.devices.marlin.gcode import strip_comment
from labloop.devices.marlin.protocol import checksum

FIRMWARE_INFO = ("FIRMWARE_NAME:labloop virtual dispenser (Marlin protocol) PROTOCOL_VERSION:1.0 "
                 "MACHINE_TYPE:syringe-dispenser EXTRUDER_COUNT:1")
HOMING_SPEED_MM_S = 50.0
_WORD = re.compile(r"([A-Z])\s*([-+]?(?:\d+\.?\d*|\.\d+))?")


@dataclass(frozen=True)
class MachineLimits:
    """An Ender-3-sized bench robot with a 5 mL syringe on its E axis."""

    x_mm: float = 220.0
    y_mm: float = 220.0
    z_mm: float = 250.0
    syringe_ml: float = 5.0


@dataclass
class Outcome:
    """What the firmware answers to one line: data/error lines, then (after `duration_s` of machine time) `ok`."""

    lines: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    ok: str | None = "ok"


@dataclass
class Executed:
    line_number: int | None
    command: str


class VirtualDispenser:
    """State and rules; `executed` lists every command that actually ran (tests check nothing ran twice)."""

    def __init__(self, limits: MachineLimits | None = None) -> None:
        self.limits = limits or MachineLimits()
        self.pos = {"X": 0.0, "Y": 0.0, "Z": 0.0, "E": 0.0}
        self.relative = False
        self.e_relative = False
        self.feed = 1500.0
        self.steps = {"X": 80.0, "Y": 80.0, "Z": 400.0, "E": 3938.0}
        self.last_line = 0
        self.executed: list[Executed] = []
        self.dispensed_ml = 0.0
        self.aspirated_ml = 0.0

    def restart(self) -> list[str]:
        """A board reset: line numbers start again; positions are lost (the machine must be re-homed)."""
        self.last_line = 0
        self.relative = self.e_relative = False
        self.pos = dict.fromkeys(self.pos, 0.0)
        return ["start", "echo: External Reset"]

    def process(self, raw: str) -> Outcome:
        line = raw.strip()
        if not line:
            return Outcome(ok=None)
        number = None
        if line.startswith("N"):
            match = re.match(r"N(\d+)\s*(.*)$", line)
            if not match:
                return self._resend("malformed line number")
            if "*" not in line:
                return self._resend("No Checksum with line number")
            body, _, given = line.rpartition("*")
            if not given.strip().isdigit() or checksum(body) != int(given):
                return self._resend("checksum mismatch")
            body_match = re.match(r"N(\d+)\s*(.*)$", body)
            if not body_match:
                return self._resend("malformed line number")
            number, command = int(body_match.group(1)), body_match.group(2).strip()
            if command.upper().startswith("M110"):
                self.last_line = self._m110_number(command, number)
                return Outcome()
            if number != self.last_line + 1:
                return self._resend("Line Number is not Last Line Number+1")
            self.last_line = number
        elif "*" in line:
            return self._resend("No Line Number with checksum")
        else:
            command = line
        outcome = self.execute(command)
        self.executed.append(Executed(number, command))
        return outcome

    def _m110_number(self, command: str, number: int) -> int:
        words = dict(_words(command.upper())[1:])
        value = words.get("N")
        return int(float(value)) if value is not None else number

    def _resend(self, why: str) -> Outcome:
        return Outcome([f"Error:{why}, Last Line: {self.last_line}", f"Resend: {self.last_line + 1}"])

    def execute(self, command: str) -> Outcome:
        text = strip_comment(command).upper()
        if not text:
            return Outcome()
        words = _words(text)
        if not words or words[0][1] is None:
            return Outcome([f'echo:Unknown command: "{text}"'])
        (letter, num), *params = words
        code = f"{letter}{int(float(num))}" if float(num).is_integer() else f"{letter}{num}"
        p = {k: (float(v) if v is not None else None) for k, v in params}
        handler = getattr(self, f"_{code.lower()}", None)
        if handler is None:
            return Outcome([f'echo:Unknown command: "{text}"'])
        try:
            return handler(p)
        except (TypeError, ValueError) as exc:
            return Outcome([f"Error:{code} {exc}"])

    # -- commands ------------------------------------------------------------------------------------------

    def _move(self, p: dict[str, float | None], extra_length: float = 0.0) -> Outcome:
        if p.get("F") is not None:
            if p["F"] <= 0:
                raise ValueError("feed rate must be positive")
            self.feed = p["F"]
        target = dict(self.pos)
        for axis in "XYZ":
            if p.get(axis) is not None:
                target[axis] = (self.pos[axis] if self.relative else 0.0) + p[axis]
        if p.get("E") is not None:
            target["E"] = (self.pos["E"] if self.e_relative else 0.0) + p["E"]
        if error := self._check(target):
            return Outcome([error])
        distance = math.dist([self.pos[a] for a in "XYZ"], [target[a] for a in "XYZ"]) + extra_length
        volume = target["E"] - self.pos["E"]
        if volume < 0:
            self.dispensed_ml -= volume
        else:
            self.aspirated_ml += volume
        self.pos = target
        return Outcome(duration_s=max(distance, abs(volume)) / (self.feed / 60.0))

    def _check(self, t: dict[str, float]) -> str | None:
        lim = self.limits
        for axis, top in (("X", lim.x_mm), ("Y", lim.y_mm), ("Z", lim.z_mm)):
            if not 0.0 - 1e-6 <= t[axis] <= top + 1e-6:
                return (f"Error:Move out of range: {axis}{t[axis]:.2f} is outside the build volume "
                        f"(0..{lim.x_mm:g} x 0..{lim.y_mm:g} x 0..{lim.z_mm:g} mm)")
        if t["E"] < -1e-6:
            return f"Error:Syringe empty: cannot dispense to E{t['E']:.3f} mL"
        if t["E"] > lim.syringe_ml + 1e-6:
            return f"Error:Syringe overfill: E{t['E']:.3f} mL exceeds the {lim.syringe_ml:g} mL syringe"
        return None

    _g0 = _g1 = _move

    def _g2(self, p: dict[str, float | None]) -> Outcome:
        i, j, r = p.get("I") or 0.0, p.get("J") or 0.0, p.get("R")
        radius = abs(r) if r is not None else math.hypot(i, j)
        if radius <= 0:
            raise ValueError("arc needs I/J or R")
        full_circle = p.get("X") is None and p.get("Y") is None
        if full_circle:
            cx, cy = self.pos["X"] + i, self.pos["Y"] + j
            if error := self._check({**self.pos, "X": cx - radius, "Y": cy - radius}) or self._check(
                    {**self.pos, "X": cx + radius, "Y": cy + radius}):
                return Outcome([error])
        arc = 2 * math.pi * radius if full_circle else math.pi * radius
        move = {k: v for k, v in p.items() if k in "XYZEF"}
        return self._move(move, extra_length=arc)

    _g3 = _g2

    def _g4(self, p: dict[str, float | None]) -> Outcome:
        return Outcome(duration_s=(p.get("P") or 0.0) / 1000.0 + (p.get("S") or 0.0))

    def _g28(self, p: dict[str, float | None]) -> Outcome:
        axes = [a for a in "XYZ" if a in p] or list("XYZ")
        distance = max(abs(self.pos[a]) for a in axes)
        for a in axes:
            self.pos[a] = 0.0
        return Outcome(duration_s=distance / HOMING_SPEED_MM_S)

    def _g90(self, p: dict[str, float | None]) -> Outcome:
        self.relative = self.e_relative = False
        return Outcome()

    def _g91(self, p: dict[str, float | None]) -> Outcome:
        self.relative = self.e_relative = True
        return Outcome()

    def _g92(self, p: dict[str, float | None]) -> Outcome:
        for axis in "XYZE":
            if p.get(axis) is not None:
                self.pos[axis] = p[axis]
        return Outcome()

    def _m82(self, p: dict[str, float | None]) -> Outcome:
        self.e_relative = False
        return Outcome()

    def _m83(self, p: dict[str, float | None]) -> Outcome:
        self.e_relative = True
        return Outcome()

    def _m92(self, p: dict[str, float | None]) -> Outcome:
        for axis in "XYZE":
            if p.get(axis) is not None:
                if p[axis] <= 0:
                    raise ValueError("steps per unit must be positive")
                self.steps[axis] = p[axis]
        return Outcome()

    def _m110(self, p: dict[str, float | None]) -> Outcome:
        self.last_line = int(p.get("N") or 0)
        return Outcome()

    def _m114(self, p: dict[str, float | None]) -> Outcome:
        pos, st = self.pos, self.steps
        counts = " ".join(f"{a}:{round(pos[a] * st[a])}" for a in "XYZ")
        return Outcome([f"X:{pos['X']:.2f} Y:{pos['Y']:.2f} Z:{pos['Z']:.2f} E:{pos['E']:.4f} Count {counts}"])

    def _m115(self, p: dict[str, float | None]) -> Outcome:
        return Outcome([FIRMWARE_INFO])

    def _m105(self, p: dict[str, float | None]) -> Outcome:
        return Outcome(ok="ok T:25.00 /0.00 B:25.00 /0.00")

    def _idle(self, p: dict[str, float | None]) -> Outcome:
        return Outcome()

    _g21 = _m17 = _m18 = _m84 = _m300 = _m302 = _m400 = _idle


def _words(text: str) -> list[tuple[str, str | None]]:
    return [(m.group(1), m.group(2)) for m in _WORD.finditer(text)]
