"""Fault knobs of the simulated robot, written as `name=probability` or `name@N` (on the N-th line received),
e.g. `corrupt=0.1,drop_ok@5,disconnect@12,busy_s=3`. Random faults are deterministic given the seed."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

FAULTS = {
    "corrupt": "the line arrives with a flipped byte, so the firmware requests a resend",
    "drop_ok": "the command runs but its ok is lost",
    "busy": "the command keeps the firmware busy for busy_s seconds, with 'busy: processing' keepalives",
    "disconnect": "the command runs, then the connection drops before the ok (a pty restarts the board instead)",
    "reset": "the board restarts before the command: prints 'start', forgets line numbers and positions",
    "garbage": "random bytes (and a half line without newline) arrive before the answer",
    "echo": "a burst of unsolicited echo: lines (flood lines of them) arrives before the answer",
    "mute": "from this line on the firmware never answers again",
}
SETTINGS = {"busy_s": 3.0, "flood": 3.0, "keepalive_s": 2.0}


class FaultSpecError(ValueError):
    """A fault spec the simulator cannot understand."""


@dataclass
class FaultPlan:
    """Which faults fire, by probability per line or on given line counts."""

    probability: dict[str, float] = field(default_factory=dict)
    on_line: dict[str, set[int]] = field(default_factory=dict)
    busy_s: float = SETTINGS["busy_s"]
    flood: int = int(SETTINGS["flood"])
    keepalive_s: float = SETTINGS["keepalive_s"]
    seed: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    @classmethod
    def parse(cls, text: str | None, *, seed: int = 0) -> FaultPlan:
        plan = cls(seed=seed)
        for item in filter(None, (part.strip() for part in (text or "").split(","))):
            if "@" in item:
                name, _, count = item.partition("@")
                name = name.strip()
                if name not in FAULTS or not count.strip().isdigit() or int(count) < 1:
                    raise FaultSpecError(f"cannot read fault {item!r}: use NAME@N (N >= 1) with NAME one of "
                                         f"{', '.join(FAULTS)}")
                plan.on_line.setdefault(name, set()).add(int(count))
                continue
            name, sep, value = item.partition("=")
            name = name.strip()
            try:
                number = float(value)
            except ValueError:
                number = float("nan")
            if not sep or name not in {**FAULTS, **SETTINGS} or number != number:
                raise FaultSpecError(f"cannot read fault {item!r}: use NAME=PROBABILITY or NAME@N with NAME one of "
                                     f"{', '.join(FAULTS)}, or a setting {', '.join(f'{k}=...' for k in SETTINGS)}")
            if name in SETTINGS:
                if number < 0:
                    raise FaultSpecError(f"{name} must be >= 0")
                setattr(plan, name, int(number) if name == "flood" else number)
            elif not 0.0 <= number <= 1.0:
                raise FaultSpecError(f"fault probability {name}={value} must be between 0 and 1")
            else:
                plan.probability[name] = number
        return plan

    def fires(self, name: str, line_count: int) -> bool:
        """Whether fault `name` strikes the `line_count`-th received line (draws from the seeded generator)."""
        if line_count in self.on_line.get(name, ()):
            return True
        p = self.probability.get(name, 0.0)
        return p > 0 and self._rng.random() < p

    def garbage_bytes(self) -> bytes:
        noise = bytes(self._rng.randrange(256) for _ in range(self._rng.randint(1, 40)))
        return noise.replace(b"\n", b"") + b"\n" + b"X:12.0 Y:"  # a burst, then half a line with no newline

    def describe(self) -> str:
        parts = [f"{k}={v:g}" for k, v in self.probability.items()]
        parts += [f"{k}@{n}" for k, counts in self.on_line.items() for n in sorted(counts)]
        return ",".join(parts) or "none"
