"""Reading evaluation data: the corpus's `name,smiles,value,unit` CSVs, or a Bradley-format CSV (consensus median
per structure). Rows that cannot be used are counted with their reason, never silently dropped."""

from __future__ import annotations

import csv
import io
import logging
import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from labloop.knowledge_base.chem import InvalidSmiles, canonicalize
from labloop.training.errors import EvalDataError
from labloop.units import normalize_unit, to_celsius

log = logging.getLogger(__name__)

EVAL_COLUMNS = ("name", "smiles", "value", "unit")


@dataclass(frozen=True)
class EvalRow:
    """One compound to predict; `smiles` is canonical when RDKit can parse it (inchikey is then set)."""

    name: str
    smiles: str
    value_c: float
    inchikey: str | None = None


@dataclass
class EvalData:
    rows: list[EvalRow]
    skipped: Counter = field(default_factory=Counter)
    source: str = ""


def _canonical(smiles: str) -> tuple[str, str | None]:
    try:
        found = canonicalize(smiles)
    except InvalidSmiles:
        return smiles, None
    return found.smiles, found.inchikey


def _read_eval_format(text: str, path: Path) -> EvalData:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    data = EvalData(rows=[], source=str(path))
    for record in reader:
        if None in record:
            data.skipped["more fields than the header"] += 1
            continue
        smiles = (record.get("smiles") or "").strip()
        if not smiles:
            data.skipped["empty SMILES"] += 1
            continue
        try:
            value = float((record.get("value") or "").strip())
            unit = normalize_unit(record.get("unit") or "degC")
        except ValueError:
            data.skipped["non-numeric value or unknown unit"] += 1
            continue
        if not math.isfinite(value):
            data.skipped["non-finite value"] += 1
            continue
        canonical, inchikey = _canonical(smiles)
        name = (record.get("name") or "").strip() or canonical
        data.rows.append(EvalRow(name=name, smiles=canonical, value_c=to_celsius(value, unit), inchikey=inchikey))
    return data


def _read_bradley_format(path: Path, property: str) -> EvalData:
    from labloop.knowledge_base.measurement_csv import Reject, read_rows

    data = EvalData(rows=[], source=str(path))
    values: dict[str, list[float]] = defaultdict(list)
    first: dict[str, tuple[str, str]] = {}
    for item in read_rows(path, property=property, unit="degC"):
        if isinstance(item, Reject):
            data.skipped[item.reason.split(":")[0]] += 1
            continue
        values[item.structure.smiles].append(item.value)
        first.setdefault(item.structure.smiles, (item.name, item.structure.inchikey))
    for smiles, measured in values.items():
        name, inchikey = first[smiles]
        data.rows.append(EvalRow(name=name or smiles, smiles=smiles, value_c=statistics.median(measured),
                                 inchikey=inchikey))
    return data


def read_eval_data(path: Path, *, property: str = "melting_point") -> EvalData:
    """Evaluation rows from `path`; EvalDataError when the file is unusable as a whole."""
    from labloop.knowledge_base.measurement_csv import CsvFormatError, decode

    path = Path(path)
    if not path.is_file():
        raise EvalDataError(f"evaluation data {path} does not exist")
    try:
        text = decode(path, None)
    except (CsvFormatError, UnicodeDecodeError) as exc:
        raise EvalDataError(str(exc)) from None
    header = next(csv.reader(io.StringIO(text)), [])
    columns = {c.strip() for c in header}
    try:
        if {"smiles", "value"} <= columns:
            data = _read_eval_format(text, path)
        elif "smiles" in columns:
            data = _read_bradley_format(path, property)
        else:
            raise EvalDataError(
                f"{path} has columns {', '.join(header) or '(none)'}; expected name,smiles,value,unit "
                "or a Bradley-format CSV (key,name,smiles,mpC,...)"
            )
    except CsvFormatError as exc:
        raise EvalDataError(str(exc)) from None
    if not data.rows:
        reasons = ", ".join(f"{k}: {v}" for k, v in data.skipped.most_common(3)) or "no rows"
        raise EvalDataError(f"{path} has no usable rows ({reasons})")
    if data.skipped:
        log.warning("%s: skipped %d rows (%s)", path, sum(data.skipped.values()), dict(data.skipped))
    return data
