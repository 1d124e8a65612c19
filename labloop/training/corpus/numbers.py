"""Numbers in prose: find them (skipping locants, formulas and ring-closure digits) and match them to fact values.

A number in a text is a standalone numeral ("80.5", "-12", "1,250", "353 K") or a spelled-out count from two to
ninety-nine ("three", "twenty-five"). Digits glued to letters ("C6H6", "sp3", "c1ccccc1"), locants ("2,4-dinitro",
"1,3-") and the identifiers masked out beforehand (names, SMILES) are not numbers. "one" and "zero" are idiomatic
("one of the", "zero-point") far more often than counts, so they are not read as numbers. A spelled-out count
of structural parts ("two nitro groups", "six-membered ring") describes the structure in the SMILES, not a
measured value, and is not read as a number either.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from labloop.units import convert, normalize_unit

# Unit suffixes that may be glued to a numeral ("353K", "80.5°C", "5mL") without making it part of a word.
_GLUED_UNITS = frozenset(
    "K C F °C °F ° ℃ mL ml L µL uL min h hr s ms nm µm um mm cm mg g kg mol mmol M mM % rpm".split()
)
# A hyphenated word after a numeral that still makes it a quantity ("12-hour", "80-degree"), not a locant.
_QUANTITY_WORDS = frozenset(
    "degree degrees kelvin celsius fahrenheit fold hour hours minute minutes second seconds day days percent "
    "ml ml. mL gram grams mg".split()
)

_NUMERAL = re.compile(
    r"(?<![\w.,])(?P<sign>[-−–]?)(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?P<suffix>[A-Za-zµ°℃%]*)"
)
_LOCANT_TAIL = re.compile(r"(?:[,'′]\d*)*-(?P<word>[A-Za-z(\[][A-Za-z.]*)")

_UNITS_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19,
}
_TENS_WORDS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
               "ninety": 90}
_STRUCTURE_AFTER = re.compile(
    r"[-\s]+(?:[\w-]+\s+)?(?:groups?|rings?|atoms?|carbons?|bonds?|substituents?|hydrogens?|oxygens?|nitrogens?|"
    r"halogens?|chlorines?|fluorines?|methyls?|chains?|sites?|donors?|acceptors?|membered|positions?|lone pairs?|"
    r"heteroatoms?|branches|arms?|fused)\b",
    re.IGNORECASE,
)
_DIGIT_WORDS = {"one": 1, **{k: v for k, v in _UNITS_WORDS.items() if v < 10}}
_SPELLED = re.compile(
    r"\b(?:(?P<tens>" + "|".join(_TENS_WORDS) + r")(?:[-\s](?P<ones>" + "|".join(_DIGIT_WORDS) + r"))?|(?P<unit>"
    + "|".join(sorted(_UNITS_WORDS, key=len, reverse=True)) + r"))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class FoundNumber:
    """A number read from text: its value, how many decimals it was written with, and where."""

    value: float
    decimals: int
    start: int
    end: int
    spelled: bool = False


def decimals_of(value: float, cap: int = 2) -> int:
    """Decimals needed to write `value` after rounding float noise away (804.0000000000001 -> 0)."""
    text = f"{round(value, cap):.{cap}f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0


def format_value(value: float, cap: int = 2) -> str:
    """`value` written with the decimals it really has (at most `cap`)."""
    d = decimals_of(value, cap)
    return f"{round(value, d):.{d}f}"


def find_numbers(text: str) -> list[FoundNumber]:
    """Every number in `text` in reading order (see the module docstring for what counts as one)."""
    found: list[FoundNumber] = []
    for m in _NUMERAL.finditer(text):
        suffix = m.group("suffix")
        if suffix and suffix not in _GLUED_UNITS:
            continue
        if not suffix:
            tail = _LOCANT_TAIL.match(text, m.end())
            if tail and tail.group("word").lower().rstrip(".") not in _QUANTITY_WORDS:
                continue
        raw = m.group("num").replace(",", "")
        value = float(raw)
        if m.group("sign"):
            value = -value
        decimals = len(raw.split(".")[1]) if "." in raw else 0
        found.append(FoundNumber(value, decimals, m.start(), m.end("num")))
    for m in _SPELLED.finditer(text):
        if _STRUCTURE_AFTER.match(text, m.end()):
            continue
        if m.group("unit"):
            value = _UNITS_WORDS[m.group("unit").lower()]
        else:
            value = _TENS_WORDS[m.group("tens").lower()] + (_DIGIT_WORDS[m.group("ones").lower()] if m.group("ones") else 0)
        found.append(FoundNumber(float(value), 0, m.start(), m.end(), spelled=True))
    found.sort(key=lambda n: n.start)
    return found


@dataclass(frozen=True)
class Quantity:
    """A number of a fact, with its unit (None for counts and unitless values)."""

    value: float
    unit: str | None = None
    label: str = ""

    def variants(self) -> list[float]:
        """The values a text may write for it: itself, and for temperatures its degC/K/degF conversions."""
        out = [self.value]
        if self.unit is not None:
            try:
                unit = normalize_unit(self.unit)
            except ValueError:
                return out
            out = [convert(self.value, unit, other) for other in ("degC", "K", "degF")]
        if self.value < 0:
            out.append(-self.value)  # "minus 20 degrees" is written with a bare 20
        return out


def matches(found: FoundNumber, value: float) -> bool:
    """True when `found` is `value` written at the precision it was written with (80.5 may be 80.5, 80 or 81)."""
    if not math.isfinite(value):
        return False
    tolerance = 0.5 * 10 ** (-found.decimals) + 1e-9
    return abs(found.value - value) <= tolerance


def first_match(found: FoundNumber, allowed: list[float]) -> bool:
    return any(matches(found, value) for value in allowed)
