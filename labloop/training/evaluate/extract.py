"""Reading the predicted number out of a `#Prediction` section, with a defined outcome for every odd answer.

Outcomes (documented in docs/learning.md):
- a single number, optionally with a temperature unit (degC, °C, C, K, degF, °F, "degrees Celsius"): answered;
  a unit different from the asked one is converted to it.
- an approximate number ("~120", "≈120", "about 120 °C") or one with an uncertainty ("120 ± 5"): answered as
  the number.
- a range "120-125", "120 to 125", "120–125": answered as its midpoint (122.5).
- a section whose first line is such an answer and whose next lines are prose: the first line is the answer.
- two or more numbers that are not one range ("120 or 130", "120, 130"): unanswered (ambiguous).
- "N/A", "unknown", no number, or a unit that is not a temperature: unanswered.
- no `#Prediction` section: unanswered. With several sections, the last one is the answer.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from labloop.units import convert, normalize_unit

_SECTION = re.compile(r"(?:^|\n)[ \t>*_]*#+[ \t]*Prediction\b[ \t*_]*[:：]?", re.IGNORECASE)
_NEXT_SECTION = re.compile(r"\n[ \t>*_]*#+[ \t]*[A-Za-z]")
_NUMBER = r"[-+−]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_UNIT = r"(?:°\s*[CFK]|deg(?:rees?)?\s*(?:[CF]|celsius|fahrenheit)|[CFK]|kelvin|celsius|fahrenheit|℃|℉|°|degrees?)"
_APPROX = re.compile(r"^(?:~|≈|∼|approx(?:imately|\.)?|about|around|roughly|circa|ca\.)\s*", re.IGNORECASE)
_SINGLE = re.compile(
    rf"^(?P<a>{_NUMBER})\s*(?:(?:±|\+/-|\+-)\s*{_NUMBER}\s*)?(?P<unit>{_UNIT})?$", re.IGNORECASE
)
_RANGE = re.compile(
    rf"^(?P<a>{_NUMBER})\s*(?P<unit1>{_UNIT})?\s*(?:-|–|—|~|to)\s*(?P<b>{_NUMBER})\s*(?P<unit>{_UNIT})?$",
    re.IGNORECASE,
)
_ANY_NUMBER = re.compile(r"\d")
_NUMBER_AND_WORD = re.compile(rf"^{_NUMBER}\s*[^\d\s,;/]+$")


@dataclass(frozen=True)
class Extraction:
    """The parsed value (in the asked unit) or None, and why: ok, range, missing, no_number, ambiguous, bad_unit."""

    value: float | None
    outcome: str

    @property
    def answered(self) -> bool:
        return self.value is not None


def _unit(text: str | None, asked: str) -> str | None:
    if not text:
        return asked
    cleaned = {"℃": "degC", "℉": "degF"}.get(text.strip(), text.strip())
    cleaned = re.sub(r"^(?:°\s*|deg(?:rees?)?\s*)", "", cleaned, flags=re.IGNORECASE)
    if not cleaned:  # a bare "°" or "degrees": the asked unit
        return asked
    try:
        return normalize_unit(cleaned)
    except ValueError:
        return None


def _number(text: str) -> float:
    return float(text.replace("−", "-"))


def prediction_section(answer: str) -> str | None:
    """The text of the last #Prediction section, or None when there is none."""
    matches = list(_SECTION.finditer("\n" + answer))
    if not matches:
        return None
    rest = ("\n" + answer)[matches[-1].end():]
    end = _NEXT_SECTION.search(rest)
    return rest[: end.start()] if end else rest


def extract_prediction(answer: str, *, unit: str = "degC") -> Extraction:
    """The number a model gave in its #Prediction section, converted to `unit`."""
    section = prediction_section(answer or "")
    if section is None:
        return Extraction(None, "missing")
    found = _parse(section, unit)
    if found.outcome == "ambiguous":
        first_line = next((line for line in section.splitlines() if line.strip()), "")
        on_first_line = _parse(first_line, unit)
        if on_first_line.answered:
            return on_first_line
    return found


def _parse(section: str, unit: str) -> Extraction:
    text = section.strip().strip("*_`").strip().rstrip(".").strip()
    text = _APPROX.sub("", re.sub(r"\s+", " ", text))
    if not _ANY_NUMBER.search(text):
        return Extraction(None, "no_number")
    extraction = _parse_number(text, unit)
    if extraction.value is not None and not math.isfinite(extraction.value):
        return Extraction(None, "no_number")
    return extraction


def _parse_number(text: str, unit: str) -> Extraction:
    single = _SINGLE.match(text)
    if single:
        found = _unit(single["unit"], unit)
        if found is None:
            return Extraction(None, "bad_unit")
        return Extraction(convert(_number(single["a"]), found, unit), "ok")
    span = _RANGE.match(text)
    if span:
        low, high = _number(span["a"]), _number(span["b"])
        found = _unit(span["unit"] or span["unit1"], unit)
        if found is None or (span["unit1"] and span["unit"] and _unit(span["unit1"], unit) != found):
            return Extraction(None, "bad_unit")
        if high < low:
            return Extraction(None, "ambiguous")
        return Extraction(convert((low + high) / 2.0, found, unit), "range")
    if _NUMBER_AND_WORD.match(text):
        return Extraction(None, "bad_unit")
    return Extraction(None, "ambiguous")
