"""Facts export from the knowledge base: molecule property consensus values, runs, lab notes and reflections.

Ids are stable across databases: `prop:<InChIKey>:<property>`, `run:<run id>`, `note:<note id>`.
Run facts are summarised (at most a dozen turbidity points and dispenses) so one prompt stays short.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from labloop.knowledge_base.models import (
    DeviceEvent,
    Experiment,
    Molecule,
    MoleculeName,
    Note,
    NoteRevision,
    Observation,
    PropertyConsensus,
    PropertyMeasurement,
    Result,
    Run,
)
from labloop.training.corpus.numbers import format_value

log = logging.getLogger(__name__)

MAX_SERIES_POINTS = 12


def property_records(session: Session, *, property: str | None, max_facts: int | None) -> list[dict[str, Any]]:
    """One record per (molecule, property) consensus, with every recorded name and the reporting sources."""
    query = select(PropertyConsensus, Molecule).join(Molecule, Molecule.id == PropertyConsensus.molecule_id)
    if property:
        query = query.where(PropertyConsensus.property == property)
    query = query.order_by(Molecule.inchikey, PropertyConsensus.property)
    if max_facts:
        query = query.limit(max_facts)
    rows = session.exec(query).all()
    ids = [mol.id for _, mol in rows]
    names: dict[int, list[str]] = defaultdict(list)
    sources: dict[tuple[int, str], set[str]] = defaultdict(set)
    for chunk in (ids[i:i + 900] for i in range(0, len(ids), 900)):
        for n in session.exec(select(MoleculeName).where(MoleculeName.molecule_id.in_(chunk)).order_by(MoleculeName.id)):
            names[n.molecule_id].append(n.name)
        for m in session.exec(select(PropertyMeasurement).where(PropertyMeasurement.molecule_id.in_(chunk))):
            sources[(m.molecule_id, m.property)].add(m.source or m.dataset)
    return [
        {
            "id": f"prop:{mol.inchikey}:{cons.property}", "kind": "property", "name": mol.name,
            "names": names.get(mol.id, []), "smiles": mol.smiles, "inchikey": mol.inchikey,
            "property": cons.property, "value": cons.value, "unit": cons.unit,
            "n_measurements": cons.n_measurements, "min": cons.min_value, "max": cons.max_value,
            "sources": sorted(sources.get((mol.id, cons.property), set())),
        }
        for cons, mol in rows
    ]


def _thin(items: list[Any], n: int = MAX_SERIES_POINTS) -> list[Any]:
    if len(items) <= n:
        return items
    step = (len(items) - 1) / (n - 1)
    return [items[round(i * step)] for i in range(n)]


def run_records(session: Session) -> list[dict[str, Any]]:
    """One record per finished run: experiment setup, parameters, dispenses, turbidity over time, results."""
    records = []
    for run in session.exec(select(Run).where(Run.status != "running").order_by(Run.id)):
        exp = session.get(Experiment, run.experiment_id) if run.experiment_id else None
        t0 = run.started_at
        dispenses = session.exec(
            select(DeviceEvent).where(DeviceEvent.run_id == run.id, DeviceEvent.kind == "dispense").order_by(DeviceEvent.ts)
        ).all()
        observations = session.exec(select(Observation).where(Observation.run_id == run.id).order_by(Observation.ts)).all()
        results = session.exec(select(Result).where(Result.run_id == run.id).order_by(Result.id)).all()
        turbidity = [
            {"minute": round((o.ts - t0).total_seconds() / 60), "score": round(o.llm_score if o.llm_score is not None else o.cv_score, 1)}
            for o in observations if (o.llm_score is not None or o.cv_score is not None)
        ]
        data: dict[str, Any] = {"run": run.name or f"run {run.id}", "operator": run.operator, "status": run.status}
        if exp is not None:
            data |= {"experiment": exp.name, "goal": exp.goal, "setup": exp.setup}
        if run.parameters:
            data["parameters"] = run.parameters
        if dispenses:
            data["dispenses"] = [d.payload for d in _thin(dispenses)]
        if turbidity:
            data["turbidity (0-5) over time"] = _thin(turbidity)
        if results:
            data["results"] = [f"{r.quantity}: {format_value(r.value)} {r.unit}".strip() for r in results]
        records.append({
            "id": f"run:{run.id}", "kind": "run", "data": data,
            "targets": [{"value": r.value, "label": r.quantity} for r in results],
        })
    return records


def note_records(session: Session) -> list[dict[str, Any]]:
    """One record per note (its latest revision), labelled lab note or reflection, with who wrote it."""
    records = []
    for note in session.exec(select(Note).order_by(Note.id)):
        rev = session.exec(
            select(NoteRevision).where(NoteRevision.note_id == note.id).order_by(NoteRevision.revision.desc())
        ).first()
        if rev is None or not rev.body.strip():
            continue
        data = {"type": note.kind.replace("_", " "), "title": note.title, "run": note.run_id, "text": rev.body}
        if note.compared_run_ids:
            data["compared runs"] = note.compared_run_ids
        records.append({"id": f"note:{note.id}", "kind": "note", "data": data})
    return records


def export_records(
    engine: Engine, *, property: str | None = "melting_point", max_facts: int | None = None,
    include_runs: bool = True, include_notes: bool = True,
) -> list[dict[str, Any]]:
    """All fact records of the knowledge base, property facts first."""
    with Session(engine) as session:
        records = property_records(session, property=property, max_facts=max_facts)
        if include_runs:
            records += run_records(session)
        if include_notes:
            records += note_records(session)
    log.info("exported %d fact records", len(records))
    return records
