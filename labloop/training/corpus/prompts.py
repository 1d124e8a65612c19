"""Prompts for styled texts and reasons, and the plan: which facts go into which prompt, in which style.

The styled prompt is the source's (seed 000): "Prepare {style} text according to the following data. Never include
any other number which is not given from the data." Each fact is put into `texts_per_fact` prompts; a prompt holds
1-4 facts (mean 2.5) of the same kind and the same side of the split, so no text mixes trained and held-out compounds.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass

from labloop.training.corpus.facts import TEMPERATURE_SYMBOL, Fact
from labloop.training.corpus.numbers import format_value

DEFAULT_STYLES = ("textbook", "conversation", "classroom", "Q&A", "interview", "journal")
GROUP_SIZES = (1, 2, 3, 4)

STYLED_TEMPLATE = """Prepare {style}-style text according to the following data.
- Never include any other number which is not given from the data.
- Generate only the text, not e.g., system outputs.
- Add some discussion or explanation if necessary.
- Name every compound (by its name or SMILES) and state every value given.
{data}"""

REASON_TEMPLATE = """Explain step by step why {compound} (SMILES: {smiles}) has a {label} of {value}.
Discuss its structure, intermolecular forces, symmetry and hydrogen bonding.
- Never include any number other than the value given.
- Generate only the explanation, not e.g., system outputs.
- End with the value, as in: "Therefore, the {label} of {compound} is {value}."
"""

# Lines of the templates a model must not echo back; an answer containing one is rejected as an echo.
ECHO_MARKERS = (
    "never include any other number", "generate only the text", "according to the following data",
    "never include any number other than", "generate only the explanation",
)
TEMPLATE_HASH = hashlib.sha256((STYLED_TEMPLATE + REASON_TEMPLATE).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class PlannedText:
    """One prompt to send: its facts, style ("reason" for reasons), sample index and split side."""

    kind: str
    style: str
    fact_ids: tuple[str, ...]
    prompt: str
    sample: int
    held_out: bool


def styled_prompt(style: str, facts: list[Fact]) -> str:
    data = [f.data for f in facts]
    return STYLED_TEMPLATE.format(style=style, data=json.dumps(data if len(data) > 1 else data[0], ensure_ascii=False))


def reason_prompt(fact: Fact) -> str:
    value = f"{format_value(fact.value)} {TEMPERATURE_SYMBOL.get(fact.unit, fact.unit)}".strip()
    return REASON_TEMPLATE.format(
        compound=fact.name or fact.smiles, smiles=fact.smiles, label=fact.property_name.replace("_", " "), value=value
    )


def _groups(facts: list[Fact], rng: random.Random) -> list[list[Fact]]:
    """Split `facts` (already shuffled) into consecutive groups of 1-4; run and note facts stay alone."""
    groups: list[list[Fact]] = []
    pending = [f for f in facts if f.kind == "property"]
    groups += [[f] for f in facts if f.kind != "property"]
    i = 0
    while i < len(pending):
        size = rng.choice(GROUP_SIZES)
        groups.append(pending[i:i + size])
        i += size
    return groups


def plan_texts(
    facts: list[Fact], held_out: set[str], *, texts_per_fact: int, reasons_per_fact: int, styles: tuple[str, ...],
    seed: int,
) -> list[PlannedText]:
    """The whole request plan, deterministic given `seed`: every fact in exactly `texts_per_fact` styled prompts."""
    rng = random.Random(seed)
    plan: list[PlannedText] = []
    sides = {False: [f for f in facts if f.compound_key not in held_out],
             True: [f for f in facts if f.compound_key in held_out]}
    for held, side in sides.items():
        for sample in range(texts_per_fact):
            shuffled = side[:]
            rng.shuffle(shuffled)
            for group in _groups(shuffled, rng):
                style = rng.choice(styles)
                plan.append(PlannedText("styled", style, tuple(f.id for f in group), styled_prompt(style, group),
                                        sample, held))
        for fact in side:
            if fact.kind != "property":
                continue
            for sample in range(reasons_per_fact):
                plan.append(PlannedText("reason", "reason", (fact.id,), reason_prompt(fact), sample, held))
    return plan
