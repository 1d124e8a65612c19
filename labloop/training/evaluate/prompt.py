"""The source's evaluation prompt, with the property name and unit configurable."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

TEMPLATE = (
    "Predict the {property_name} {unit} of the following compound.\n"
    '#Restriction: Output can contain "#Reason" section which explains the reasoning behind the prediction.\n'
    'Output must contain "#Prediction" section which contains only the predicted value (number only).\n'
    "#Name: {comp_name}\n"
    "#SMILES: {smiles}\n"
)


@dataclass(frozen=True)
class EvalPrompt:
    """What is asked: the property in words and the unit the answer is expected in (degC, K or degF)."""

    property_name: str = "melting point"
    unit: str = "degC"

    def render(self, *, name: str, smiles: str) -> str:
        return TEMPLATE.format(property_name=self.property_name, unit=f"({self.unit})", comp_name=name, smiles=smiles)

    @property
    def template_hash(self) -> str:
        """Identifies the exact prompt in provenance records."""
        text = TEMPLATE.format(property_name=self.property_name, unit=f"({self.unit})", comp_name="{name}",
                               smiles="{smiles}")
        return hashlib.sha256(text.encode()).hexdigest()[:16]
