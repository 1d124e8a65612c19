"""Baseline training rows from the knowledge base: one consensus value per structure."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import select

from labloop.knowledge_base.db import session_scope
from labloop.knowledge_base.models import Molecule, PropertyConsensus
from labloop.training.errors import EvalDataError
from labloop.training.evaluate.data import EvalRow
from labloop.units import to_celsius


def knowledge_base_rows(engine: Engine, *, property: str = "melting_point") -> list[EvalRow]:
    """Every molecule's consensus value of `property`, in degC; EvalDataError when there are none."""
    with session_scope(engine) as session:
        pairs = session.exec(
            select(PropertyConsensus, Molecule).join(Molecule, Molecule.id == PropertyConsensus.molecule_id)
            .where(PropertyConsensus.property == property).order_by(Molecule.id)
        ).all()
    if not pairs:
        raise EvalDataError(
            f"the knowledge base has no {property.replace('_', ' ')} values; import some "
            "(`labloop kb import-molecules`) or pass --data CSV"
        )
    return [EvalRow(name=m.name or m.smiles, smiles=m.smiles, value_c=to_celsius(c.value, c.unit), inchikey=m.inchikey)
            for c, m in pairs]
