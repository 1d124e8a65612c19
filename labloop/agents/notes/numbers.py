"""The number check: every number in a note must come from the records. A number matches a record value when
it equals that value rounded to the number of decimals written; times (H:MM) and dates must exist verbatim."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

_DATE = r"\d{4}-\d{2}-\d{2}"
_TIME = r"\d{1,3}:\d{2}"
_NUMBER = r"[-+]?\d+(?:[.,]\d+)*(?:\.\d+)?"
TOKEN = re.compile(rf"(?<![\w.#/-])(?:(?P<date>{_DATE})|(?P<time>{_TIME})|(?P<number>{_NUMBER}))(?![\w])")
SCALE_CONSTANTS = (0.0, 5.0)  # the ends of the 0-5 turbidity scale


class NoteRejected(ValueError):
    """A note cites numbers that are not in the records; it is not saved."""

    def __init__(self, unsupported: list[str], what: str = "note") -> None:
        self.unsupported = unsupported
        super().__init__(f"the {what} cites values that are not in the records: {', '.join(unsupported)}; "
                         "it was not saved")


@dataclass
class AllowedNumbers:
    """Values found in the records, plus exact tokens (times, dates, identifiers) that may be quoted."""

    values: list[float] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)

    def add(self, *values: float | int | None) -> None:
        self.values.extend(float(v) for v in values if v is not None and math.isfinite(float(v)))

    def add_tokens(self, *tokens: str) -> None:
        self.tokens.update(tokens)

    def add_text(self, text: str) -> None:
        """Every number quoted in a record's own text (the chemist's setup, a device log line) is allowed."""
        for match in TOKEN.finditer(text or ""):
            token = match.group(0)
            self.tokens.add(token)
            if match.group("number"):
                value = _to_float(token)
                if value is not None:
                    self.add(value)

    def allows(self, token: str, *, kind: str) -> bool:
        if token in self.tokens:
            return True
        if kind != "number":
            return False
        value = _to_float(token)
        if value is None:
            return False
        decimals = len(token.split(".")[1]) if "." in token else 0
        tolerance = 0.5 * 10 ** (-decimals) + 1e-9
        return any(abs(value - v) <= tolerance for v in [*self.values, *SCALE_CONSTANTS])


def unsupported_numbers(text: str, allowed: AllowedNumbers) -> list[str]:
    """The numbers, times and dates in `text` that the records do not support (in order, without repeats)."""
    bad: list[str] = []
    for match in TOKEN.finditer(text):
        kind = next(k for k in ("date", "time", "number") if match.group(k))
        token = match.group(0)
        if not allowed.allows(token, kind=kind) and token not in bad:
            bad.append(token)
    return bad


def check(text: str, allowed: AllowedNumbers, what: str = "note") -> None:
    bad = unsupported_numbers(text, allowed)
    if bad:
        raise NoteRejected(bad, what)


def elapsed_hm(seconds: float) -> str:
    """Elapsed time as H:MM, the way notes quote times."""
    minutes = int(round(seconds / 60))
    return f"{minutes // 60}:{minutes % 60:02d}"


def _to_float(token: str) -> float | None:
    try:
        return float(token.replace(",", "")) if token.count(".") <= 1 else None
    except ValueError:
        return None
