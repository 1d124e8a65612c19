"""Numbers in prose: find them (skipping locants, formulas and ring-closure digits) and match them to fact values.

A number in a text is a standalone numeral ("80.5", "-12", "1,250", "353 K", "1.22e2", "1.22 × 10^2") or a
spelled-out number ("three", "twenty-five", "a dozen", "one hundred and twenty"). Digits glued to letters ("C6H6", "sp3", "c1ccccc1"), locants ("2,4-dinitro",
"1,3-") and the identifiers masked out beforehand (names, SMILES) are not numbers. "one" and "zero" are idiomatic
("one of the", "zero-point") far more often than counts, so they are not read as numbers. A spelled-out count
of structural parts ("two nitro groups", "six-membered ring") describes the structure in the SMILES, not a
measured value, and is not read as a number either. A numeral followed by a temperature unit ("353 K", "80 °C",
"176 degrees Fahrenheit") carries that unit, so it only matches a fact value converted to that unit.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from labloop.units import convert, normalize_unit

# Unit suffixes that may be glued to a numeral ("353K", "80.5°C", "5mL") without making it part of a word.
_GLUED_UNITS = frozenset(
    "K C F °C °F ° ℃ ℉ mL ml L µL uL min h hr s ms nm µm um mm cm mg g kg mol mmol M mM % rpm x".split()
)
# A hyphenated word after a numeral that still makes it a quantity ("12-hour", "80-degree"), not a locant.
_QUANTITY_WORDS = frozenset(
    "degree degrees kelvin celsius fahrenheit fold hour hours minute minutes second seconds day days percent "
    "ml ml. mL gram grams mg".split()
)

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_NUMERAL = re.compile(
    r"(?<![\w.,])(?P<sign>[-−–]?)(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:[eE](?P<exp>[-+−]?\d+)|\s?[×x·]\s?10(?:\^\(?(?P<exp2>[-+−]?\d+)\)?|(?P<exp3>[⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+)))?"
    r"(?P<suffix>[A-Za-zµ°℃℉%]*)"
)
# A temperature unit after a numeral (glued or after one space); "degrees" alone names no scale.
_TEMPERATURE_AFTER = re.compile(
    r"[ \u00a0\u202f]?(?:(?:°|[Dd]eg(?:rees?|\.)?)\s?(?P<scale>C(?:elsius)?|F(?:ahrenheit)?|[Cc]entigrade)(?![a-z])"
    r"|(?P<symbol>℃|℉|K(?![A-Za-z0-9])|[Kk]elvins?\b))"
)
_SCALE_UNIT = {"c": "degC", "celsius": "degC", "centigrade": "degC", "℃": "degC", "f": "degF", "fahrenheit": "degF",
               "℉": "degF", "k": "K", "kelvin": "K", "kelvins": "K"}
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
_BIG = re.compile(r"\b(?:hundred|thousand|dozen)\b", re.IGNORECASE)
_BIG_MULTIPLIER = re.compile(
    r"\b(?P<mult>a|one|" + "|".join(sorted(_UNITS_WORDS, key=len, reverse=True)) + r")[-\s]+$", re.IGNORECASE
)
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
    unit: str | None = None
    """degC, K or degF when a temperature unit follows the numeral; None otherwise."""


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
        exponent = m.group("exp") or m.group("exp2") or (m.group("exp3") or "").translate(_SUPERSCRIPTS)
        if exponent:
            power = int(exponent.replace("−", "-"))
            value, decimals = value * 10.0**power, decimals - power
        end = m.end("suffix") if m.group("exp") or m.group("exp2") or m.group("exp3") else m.end("num")
        found.append(FoundNumber(value, decimals, m.start(), end, unit=_temperature_unit(text, m)))
    big_spans: list[tuple[int, int]] = []
    for m in _BIG.finditer(text):
        scale = {"hundred": 100, "thousand": 1000, "dozen": 12}[m.group().lower()]
        before = _BIG_MULTIPLIER.search(text, max(0, m.start() - 12), m.start())
        mult = before.group("mult").lower() if before else "a"
        start = before.start() if before else m.start()
        value, end = scale * (1 if mult in ("a", "one") else _UNITS_WORDS[mult]), m.end()
        if scale > 12:  # "one hundred and twenty-two": the rest belongs to the same number
            rest = re.compile(r"(?:\s+and)?[-\s]+").match(text, end)
            tail = _SPELLED.match(text, rest.end()) if rest else None
            if tail:
                value += _spelled_value(tail)
                end = tail.end()
        big_spans.append((start, end))
        found.append(FoundNumber(float(value), 0, start, end, spelled=True))
    for m in _SPELLED.finditer(text):
        if any(start <= m.start() < end for start, end in big_spans):
            continue
        if _STRUCTURE_AFTER.match(text, m.end()):
            continue
        found.append(FoundNumber(float(_spelled_value(m)), 0, m.start(), m.end(), spelled=True))
    found.sort(key=lambda n: n.start)
    return found


def _spelled_value(m: re.Match[str]) -> int:
    if m.group("unit"):
        return _UNITS_WORDS[m.group("unit").lower()]
    return _TENS_WORDS[m.group("tens").lower()] + (_DIGIT_WORDS[m.group("ones").lower()] if m.group("ones") else 0)


def _temperature_unit(text: str, m: re.Match[str]) -> str | None:
    """The temperature scale written right after a numeral match, if any."""
    suffix = m.group("suffix")
    if suffix and suffix != "°":
        return _SCALE_UNIT.get(suffix.lstrip("°").lower())
    after = _TEMPERATURE_AFTER.match(text, m.end("suffix") - len(suffix))
    if after is None:
        return None
    return _SCALE_UNIT.get((after.group("scale") or after.group("symbol")).lower())


@dataclass(frozen=True)
class Quantity:
    """A number of a fact, with its unit (None for counts and unitless values)."""

    value: float
    unit: str | None = None
    label: str = ""

    def variants(self, as_unit: str | None = None) -> list[float]:
        """The values a text may write for it: itself, and for temperatures its degC/K/degF conversions (only the
        one in `as_unit` when the text wrote a unit). A negative value may be written as its magnitude."""
        out = [self.value]
        if self.unit is not None:
            try:
                unit = normalize_unit(self.unit)
            except ValueError:
                return out
            out = [convert(self.value, unit, other) for other in ((as_unit,) if as_unit else ("degC", "K", "degF"))]
        return out + [-v for v in out if v < 0]  # "minus 20 degrees" is written with a bare 20


def matches(found: FoundNumber, value: float) -> bool:
    """True when `found` is `value` written at the precision it was written with (80.5 may be 80.5, 80 or 81)."""
    if not math.isfinite(value):
        return False
    tolerance = 0.5 * 10 ** (-found.decimals) + 1e-9
    return abs(found.value - value) <= tolerance


def first_match(found: FoundNumber, allowed: list[float]) -> bool:
    return any(matches(found, value) for value in allowed)
