"""Reading Bradley-format property CSVs: one checked row at a time, or a reject with the row and the reason."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from labloop.knowledge_base.chem import Canonical, InvalidSmiles, canonicalize
from labloop.units import ABSOLUTE_ZERO_C, normalize_unit, to_celsius

DEFAULT_VALUE_COLUMNS = {"melting_point": "mpC", "boiling_point": "bpC"}
# Plausible range per property, in degC: outside it a value is refused as absurd.
PLAUSIBLE_C = {"melting_point": (ABSOLUTE_ZERO_C, 2000.0), "boiling_point": (ABSOLUTE_ZERO_C, 5000.0)}
VALUE_DECIMALS = 6  # folds float noise such as 804.0000000000001


class CsvFormatError(ValueError):
    """The file as a whole cannot be read (encoding, empty, missing columns); nothing was imported."""


@dataclass(frozen=True)
class Row:
    line: int
    key: str
    name: str
    raw_smiles: str
    structure: Canonical
    value: float
    source: str
    link: str


@dataclass(frozen=True)
class Reject:
    line: int
    key: str
    name: str
    smiles: str
    value: str
    reason: str


def decode(path: Path, encoding: str | None) -> str:
    data = path.read_bytes()
    if not data.strip():
        raise CsvFormatError(f"{path} is empty")
    if encoding:
        return data.decode(encoding)
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise CsvFormatError(f"{path} is UTF-16; save it as UTF-8 (or pass --encoding utf-16)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CsvFormatError(
            f"{path} is not UTF-8 (byte 0x{data[exc.start]:02x} on line {line}); "
            "re-save it as UTF-8 or pass --encoding (e.g. --encoding latin-1)"
        ) from None


def fix_mojibake(name: str) -> str:
    """Undo UTF-8 text that was decoded as cp1252/latin-1 once ('Ã©' -> 'é'); leave anything else alone."""
    if not any(ch in name for ch in "ÃÂâ"):
        return name
    for codec in ("cp1252", "latin-1"):
        try:
            return name.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return name


def read_rows(
    path: Path, *, property: str, unit: str, value_column: str | None = None, encoding: str | None = None
) -> Iterator[Row | Reject]:
    """Yield a Row for every usable line and a Reject (with its reason) for every other one."""
    unit = normalize_unit(unit)
    value_column = value_column or DEFAULT_VALUE_COLUMNS.get(property)
    if not value_column:
        raise CsvFormatError(f"no default value column for property {property!r}; pass --value-column")
    reader = csv.DictReader(io.StringIO(decode(path, encoding), newline=""))
    columns = reader.fieldnames or []
    missing = [c for c in ("smiles", value_column) if c not in columns]
    if missing:
        raise CsvFormatError(
            f"{path} lacks column(s) {', '.join(missing)}; found {', '.join(columns) or 'no header'}. "
            f"Expected a Bradley-format CSV (key,name,smiles,{value_column},...)"
        )
    low, high = PLAUSIBLE_C.get(property, (-math.inf, math.inf))
    seen_keys: set[str] = set()
    start_line = 2
    for index, record in enumerate(reader):
        line = start_line
        start_line = reader.line_num + 1
        key = (record.get("key") or "").strip() or f"row{index + 1}"
        name = fix_mojibake((record.get("name") or "").strip())
        smiles = (record.get("smiles") or "").strip()
        raw_value = (record.get(value_column) or "").strip()

        def reject(reason: str, *, line: int = line, key: str = key, name: str = name, smiles: str = smiles,
                   raw_value: str = raw_value) -> Reject:
            return Reject(line=line, key=key, name=name, smiles=smiles, value=raw_value, reason=reason)

        if None in record:
            yield reject(f"{len(record[None])} more field(s) than the header has")
            continue
        if key in seen_keys:
            yield reject(f"duplicate key {key!r} in this file")
            continue
        seen_keys.add(key)
        flag = (record.get("donotuse") or "").strip()
        if flag:
            because = (record.get("donotusebecause") or "").strip() or "no reason given"
            yield reject(f"curators flagged it do-not-use: {because}")
            continue
        try:
            value = float(raw_value)
        except ValueError:
            yield reject(f"non-numeric value {raw_value!r}" if raw_value else "missing value")
            continue
        if not math.isfinite(value):
            yield reject(f"non-finite value {raw_value!r}")
            continue
        value_c = to_celsius(value, unit)
        if value_c <= low:
            yield reject(f"{value:g} {unit} is at or below absolute zero")
            continue
        if value_c > high:
            yield reject(f"{value:g} {unit} is above {high:g} degC, implausible for a {property.replace('_', ' ')}")
            continue
        try:
            structure = canonicalize(smiles)
        except InvalidSmiles as exc:
            yield reject(str(exc))
            continue
        yield Row(
            line=line, key=key, name=name, raw_smiles=smiles, structure=structure,
            value=round(value, VALUE_DECIMALS), source=(record.get("source") or "").strip(),
            link=(record.get("link") or "").strip(),
        )
