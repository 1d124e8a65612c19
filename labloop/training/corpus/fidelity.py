"""Number fidelity: a generated text may contain only numbers of its facts, must state every target value, must
name every compound it is about, and a reason must end with the true value. Failing texts get one reason code.

The compound's own names, SMILES and InChIKey are masked before numbers are read, so "2,4-dinitrophenol" or
"c1ccc2ccccc2c1" never count as numbers. Allowed numbers are each fact's values, their degC/K/degF conversions,
any rounding of them to the precision written, and the number of compounds in the prompt. A number written with a
temperature unit must be the value in that unit ("122 K" for a fact of 122 °C is rejected).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from labloop.training.corpus.facts import Fact
from labloop.training.corpus.numbers import FoundNumber, find_numbers, first_match
from labloop.training.corpus.prompts import ECHO_MARKERS

MIN_CHARS = 40
MIN_IDENTIFIER_CHARS = 2  # a one-letter SMILES ("C", "O") would match unit symbols and initials
REASON_TAIL_CHARS = 40

REJECT_REASONS = (
    "request_failed", "empty", "too_short", "echo_of_prompt", "missing_compound", "foreign_number",
    "missing_target", "reason_not_ending_in_value", "held_out_mention", "duplicate_exact", "duplicate_near",
)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""
    detail: str = ""


ACCEPT = Verdict(True)


class FidelityChecker:
    """Checks texts against their facts; compiled masks are kept per fact since each fact is in many texts."""

    def __init__(self) -> None:
        self._masks: dict[str, re.Pattern[str] | None] = {}

    def _mask(self, fact: Fact) -> re.Pattern[str] | None:
        if fact.id not in self._masks:
            ids = [i for i in fact.identifiers if len(i) >= MIN_IDENTIFIER_CHARS]
            alternatives = "|".join(map(re.escape, ids))
            self._masks[fact.id] = (
                re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])", re.IGNORECASE) if ids else None
            )
        return self._masks[fact.id]

    def mask_identifiers(self, text: str, facts: list[Fact]) -> tuple[str, bool]:
        """`text` with the facts' compound identifiers blanked, and whether every property fact was named."""
        named_all = True
        for fact in facts:
            pattern = self._mask(fact)
            if pattern is None:
                continue
            text, hits = pattern.subn(" ", text)
            if fact.kind == "property" and not hits:
                named_all = False
        return text, named_all

    def check(self, text: str | None, facts: list[Fact], *, kind: str) -> Verdict:
        """Accept, or reject with the first failed rule (see `REJECT_REASONS`)."""
        body = (text or "").strip()
        if not body:
            return Verdict(False, "empty")
        if len(body) < MIN_CHARS:
            return Verdict(False, "too_short", body)
        lowered = body.lower()
        if any(marker in lowered for marker in ECHO_MARKERS):
            return Verdict(False, "echo_of_prompt")
        masked, named_all = self.mask_identifiers(body, facts)
        if not named_all:
            return Verdict(False, "missing_compound")
        numbers = find_numbers(masked)
        quantities = [q for f in facts for q in f.quantities]
        allowed: dict[str | None, list[float]] = {}
        for number in numbers:
            if number.unit not in allowed:
                allowed[number.unit] = [v for q in quantities for v in q.variants(number.unit)]
                if number.unit is None:
                    allowed[None].append(float(len(facts)))
            if not first_match(number, allowed[number.unit]):
                return Verdict(False, "foreign_number", masked[number.start:number.end])
        for fact in facts:
            for target in fact.targets:
                if not any(first_match(n, target.variants(n.unit)) for n in numbers if not n.spelled):
                    return Verdict(False, "missing_target", f"{fact.id}: {target.value:g}")
        if kind == "reason" and not _ends_with_target(masked, numbers, facts[0]):
            return Verdict(False, "reason_not_ending_in_value")
        return ACCEPT


def _ends_with_target(masked: str, numbers: list[FoundNumber], fact: Fact) -> bool:
    digits = [n for n in numbers if not n.spelled]
    if not digits or not fact.targets:
        return False
    last = digits[-1]
    return first_match(last, fact.targets[0].variants(last.unit)) and len(masked.rstrip()) - last.end <= REASON_TAIL_CHARS
