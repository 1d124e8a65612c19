"""Import property measurements (Bradley-format CSV) into molecules, measurements and per-structure consensus.

Re-importing the same dataset adds nothing (rows are keyed by dataset + source key). The whole import is one
transaction: on any error nothing already stored changes. Rejected rows go to a CSV report with reasons.
"""

from __future__ import annotations

import csv
import statistics
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import Engine, delete, insert, select

from labloop.knowledge_base.db import session_scope
from labloop.knowledge_base.measurement_csv import Reject, Row, read_rows
from labloop.knowledge_base.models import Molecule, MoleculeName, PropertyConsensus, PropertyMeasurement
from labloop.knowledge_base.types import utcnow
from labloop.units import convert, normalize_unit

CHUNK = 500


@dataclass
class ImportSummary:
    dataset: str
    property: str
    unit: str
    rows: int = 0
    measurements_added: int = 0
    already_present: int = 0
    structures: int = 0
    new_structures: int = 0
    rejected: int = 0
    rejects_report: str | None = None

    def line(self) -> str:
        return (
            f"imported {self.measurements_added} measurements of {self.structures} structures, "
            f"{self.rejected} rejected"
            + (f" ({self.already_present} already present)" if self.already_present else "")
        )

    def as_dict(self) -> dict:
        return asdict(self)


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def import_measurements_csv(
    engine: Engine,
    path: Path,
    *,
    property: str = "melting_point",
    unit: str = "degC",
    dataset: str | None = None,
    value_column: str | None = None,
    encoding: str | None = None,
    reports_dir: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Read, check and store every row of `path`; `progress(n)` is called with rows done so far."""
    path = Path(path)
    unit = normalize_unit(unit)
    summary = ImportSummary(dataset=dataset or path.stem, property=property, unit=unit)
    rows: list[Row] = []
    rejects: list[Reject] = []
    for item in read_rows(path, property=property, unit=unit, value_column=value_column, encoding=encoding):
        (rows if isinstance(item, Row) else rejects).append(item)
        if progress and (len(rows) + len(rejects)) % 250 == 0:
            progress(len(rows) + len(rejects))
    summary.rows, summary.rejected = len(rows) + len(rejects), len(rejects)
    summary.structures = len({r.structure.smiles for r in rows})
    if progress:
        progress(summary.rows)
    if rejects and reports_dir is not None:
        summary.rejects_report = str(_write_rejects(rejects, reports_dir, summary.dataset))
    with session_scope(engine) as session:
        ids = _molecule_ids(session, rows, summary)
        affected = _add_measurements(session, rows, ids, summary)
        _refresh_consensus(session, affected, property=property, unit=unit)
    return summary


def _molecule_ids(session, rows: list[Row], summary: ImportSummary) -> dict[str, int]:
    """Ids of every structure in `rows`, creating the missing molecules and names."""
    wanted: dict[str, Row] = {}
    for row in rows:
        wanted.setdefault(row.structure.smiles, row)
    ids: dict[str, int] = {}
    for chunk in _chunks(list(wanted)):
        ids.update(session.execute(select(Molecule.smiles, Molecule.id).where(Molecule.smiles.in_(chunk))).all())
    new = [{"smiles": s, "inchikey": r.structure.inchikey, "name": r.name, "created_at": utcnow()}
           for s, r in wanted.items() if s not in ids]
    for chunk in _chunks(new):
        result = session.execute(insert(Molecule).returning(Molecule.smiles, Molecule.id), chunk)
        ids.update(result.all())
    summary.new_structures = len(new)

    names = {(ids[r.structure.smiles], r.name) for r in rows if r.name}
    existing: set[tuple[int, str]] = set()
    for chunk in _chunks(sorted({mid for mid, _ in names})):
        existing.update(session.execute(
            select(MoleculeName.molecule_id, MoleculeName.name).where(MoleculeName.molecule_id.in_(chunk))
        ).all())
    fresh = [{"molecule_id": mid, "name": name, "name_lower": name.lower()} for mid, name in sorted(names - existing)]
    for chunk in _chunks(fresh):
        session.execute(insert(MoleculeName), chunk)
    return ids


def _add_measurements(session, rows: list[Row], ids: dict[str, int], summary: ImportSummary) -> set[int]:
    present = set(session.execute(
        select(PropertyMeasurement.source_key).where(
            PropertyMeasurement.dataset == summary.dataset, PropertyMeasurement.property == summary.property
        )
    ).scalars())
    now = utcnow()
    new = [
        {"molecule_id": ids[r.structure.smiles], "property": summary.property, "value": r.value,
         "unit": summary.unit, "dataset": summary.dataset, "source_key": r.key, "source": r.source,
         "link": r.link, "raw_smiles": r.raw_smiles, "raw_name": r.name, "created_at": now}
        for r in rows if r.key not in present
    ]
    for chunk in _chunks(new):
        session.execute(insert(PropertyMeasurement), chunk)
    summary.measurements_added = len(new)
    summary.already_present = len(rows) - len(new)
    return {row["molecule_id"] for row in new}


def _refresh_consensus(session, molecule_ids: set[int], *, property: str, unit: str) -> None:
    """Median (and range) of all measurements of `property` for each affected molecule, in `unit`."""
    values: dict[int, list[float]] = {}
    for chunk in _chunks(sorted(molecule_ids)):
        for mid, value, value_unit in session.execute(
            select(PropertyMeasurement.molecule_id, PropertyMeasurement.value, PropertyMeasurement.unit).where(
                PropertyMeasurement.property == property, PropertyMeasurement.molecule_id.in_(chunk)
            )
        ):
            values.setdefault(mid, []).append(value if value_unit == unit else convert(value, value_unit, unit))
        session.execute(delete(PropertyConsensus).where(
            PropertyConsensus.property == property, PropertyConsensus.molecule_id.in_(chunk)
        ))
    now = utcnow()
    rows = [
        {"molecule_id": mid, "property": property, "value": statistics.median(vals), "unit": unit,
         "n_measurements": len(vals), "min_value": min(vals), "max_value": max(vals), "updated_at": now}
        for mid, vals in sorted(values.items())
    ]
    for chunk in _chunks(rows):
        session.execute(insert(PropertyConsensus), chunk)


def _write_rejects(rejects: list[Reject], reports_dir: Path, dataset: str) -> Path:
    reports_dir.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    out = reports_dir / f"rejects-{dataset}-{stamp}.csv"
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["line", "key", "name", "smiles", "value", "reason"])
        for r in rejects:
            writer.writerow([r.line, r.key, r.name, r.smiles, r.value, r.reason])
    return out
