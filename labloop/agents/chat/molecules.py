"""Facts about a structure that need no database: RDKit descriptors, and property predictions (each labelled)."""

from __future__ import annotations

import importlib.util
from typing import Any

from sqlalchemy import Engine

from labloop.config import Settings


PREDICT_MODULE = "labloop.training.predict"


def descriptors(smiles: str) -> dict[str, float | int]:
    """A few RDKit descriptors (computed, no model)."""
    from rdkit import Chem
    from rdkit.Chem import Crippen, Descriptors, Lipinski, rdMolDescriptors

    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return {}
    return {"formula": rdMolDescriptors.CalcMolFormula(mol), "mol_weight": round(Descriptors.MolWt(mol), 2),
            "logp": round(Crippen.MolLogP(mol), 2), "tpsa": round(rdMolDescriptors.CalcTPSA(mol), 1),
            "h_bond_donors": Lipinski.NumHDonors(mol), "h_bond_acceptors": Lipinski.NumHAcceptors(mol),
            "rotatable_bonds": Lipinski.NumRotatableBonds(mol), "heavy_atoms": mol.GetNumHeavyAtoms()}


def predictions(engine: Engine, settings: Settings, smiles: str, prop: str = "melting_point") -> dict[str, Any]:
    """Predictions of the promoted model and the baseline, each with its label; says so when there is none."""
    if importlib.util.find_spec(PREDICT_MODULE) is None:
        return {"predictions": [], "note": "no prediction model available (labloop.training.predict is not installed)"}
    from labloop.training.predict import PredictionUnavailable, predict_property

    try:
        preds = predict_property(engine, smiles, property=prop, settings=settings)
    except PredictionUnavailable as exc:
        return {"predictions": [], "note": f"no prediction model available: {exc}"}
    if not preds:
        return {"predictions": [], "note": "no prediction model available: train a baseline or promote a model"}
    return {"predictions": [
        {"value": p.value, "unit": p.unit, "label": p.label, "toy": p.toy, "provenance": p.provenance,
         "model_version": f"model_version:{p.model_version_id}" if p.model_version_id else None} for p in preds]}
