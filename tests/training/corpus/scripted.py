"""Scripted generator answers for corpus tests: read the facts back out of a prompt and write a text about them
(obeying the rules, or breaking one on purpose)."""

from __future__ import annotations

import json
import random
import re
from typing import Any

from tests.support.openai_server import Reply

_REASON = re.compile(r"Explain step by step why (?P<compound>.+?) \(SMILES: (?P<smiles>\S+)\) has a (?P<label>.+?) of "
                     r"(?P<value>.+?)\.\n")
FILLER = [
    "Chemists often compare such values across a homologous series.",
    "Packing in the crystal lattice matters a great deal here.",
    "Hydrogen bonding between neighbouring molecules raises the value.",
    "Symmetric molecules tend to pack more efficiently in the solid.",
    "Dipole interactions add to the dispersion forces between molecules.",
    "A student might ask why the value is not lower.",
    "The teacher pointed at the structure drawn on the board.",
    "Reviewers of the journal found the measurement convincing.",
    "Purity of the sample influences what is observed in practice.",
    "Polymorphs can complicate the picture considerably.",
    "The interviewer wanted to know how the sample was dried.",
    "Careful calibration of the apparatus is essential for such data.",
    "Branching usually disrupts how well molecules fit together.",
    "Aromatic rings stack, which stabilises the solid state.",
    "Ionic character would change the behaviour dramatically.",
    "Flexible chains lose order readily when heated.",
]


def prompt_of(request: dict[str, Any]) -> str:
    return request["messages"][-1]["content"]


def facts_in(prompt: str) -> list[dict[str, Any]]:
    """The data records a styled prompt shows (the JSON on its last line)."""
    data = json.loads(prompt.strip().splitlines()[-1])
    return data if isinstance(data, list) else [data]


def obeying_text(request: dict[str, Any]) -> str:
    """A text that states every fact (name, SMILES, value) with no foreign number, varied by the request seed."""
    rng = random.Random(request.get("seed", 0))
    prompt = prompt_of(request)
    filler = " ".join(rng.sample(FILLER, 5))
    reason = _REASON.search(prompt)
    if reason:
        return (f"{reason['compound']} has the SMILES {reason['smiles']}. {filler} "
                f"Therefore, the {reason['label']} of {reason['compound']} is {reason['value']}.")
    parts = []
    for record in facts_in(prompt):
        stated = "; ".join(f"its {k} is {v}" for k, v in record.items() if k not in ("compound", "SMILES"))
        parts.append(f"{record.get('compound', 'The run')} (SMILES {record.get('SMILES', 'none')}): {stated}.")
    return " ".join(parts) + " " + filler


def obeying(request: dict[str, Any]) -> Reply:
    return Reply.text(obeying_text(request))
