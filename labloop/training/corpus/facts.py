"""Facts: the unit the corpus is written from. Plain records in, validated `Fact`s out, rejects counted with reasons.

A record is a dict (one JSONL line, or a row exported from the knowledge base). `kind` is "property" (a molecule's
consensus value), "run" (setup, dispenses, turbidity, results) or "note" (a lab note or reflection). Every fact has a
stable id, so exposure counts and splits can be compared across builds.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from labloop.training.corpus.numbers import Quantity, find_numbers, format_value

TEMPERATURE_SYMBOL = {"degC": "°C", "K": "K", "degF": "°F"}


class FactsFileError(ValueError):
    """A facts file that cannot be read at all (missing, not JSONL)."""


@dataclass
class Fact:
    """One validated fact: what the prompt shows (`data`), which numbers it carries, and which must appear."""

    id: str
    kind: str
    data: dict[str, Any]
    quantities: list[Quantity]
    targets: list[Quantity] = field(default_factory=list)
    name: str = ""
    names: tuple[str, ...] = ()
    smiles: str = ""
    inchikey: str = ""
    property_name: str = ""
    value: float | None = None
    unit: str = ""

    @property
    def compound_key(self) -> str:
        """The held-out unit: one structure (empty for run and note facts, which are never held out)."""
        return self.inchikey if self.kind == "property" else ""

    @cached_property
    def identifiers(self) -> tuple[str, ...]:
        """Strings that name this fact's compound in a text (longest first, so masking removes whole names)."""
        ids = {s for s in (*self.names, self.name, self.smiles, self.inchikey) if s}
        return tuple(sorted(ids, key=len, reverse=True))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _numbers_in(obj: Any) -> list[Quantity]:
    """Every number in a nested record: numeric leaves and the numbers written inside its strings."""
    if isinstance(obj, dict):
        return [q for v in obj.values() for q in _numbers_in(v)] + [q for k in obj for q in _numbers_in(k)]
    if isinstance(obj, (list, tuple)):
        return [q for v in obj for q in _numbers_in(v)]
    if isinstance(obj, str):
        return [Quantity(n.value) for n in find_numbers(obj)]
    number = _number(obj)
    return [Quantity(number)] if number is not None else []


def _property_fact(rec: dict[str, Any]) -> Fact:
    from labloop.knowledge_base.chem import InvalidSmiles, canonicalize

    prop = str(rec.get("property") or "").strip()
    if not prop:
        raise ValueError("missing_property")
    if rec.get("value") in (None, ""):
        raise ValueError("missing_value")
    value = _number(rec.get("value"))
    if value is None:
        raise ValueError("non_numeric_value")
    unit = str(rec.get("unit") or "").strip()
    smiles = str(rec.get("smiles") or "").strip()
    try:
        canonical = canonicalize(smiles, allow_mixtures=True)
    except InvalidSmiles:
        raise ValueError("invalid_smiles") from None
    names = tuple(dict.fromkeys(str(n).strip() for n in [rec.get("name"), *rec.get("names", [])] if n and str(n).strip()))
    name = names[0] if names else ""
    symbol = TEMPERATURE_SYMBOL.get(unit, unit)
    label = prop.replace("_", " ")
    data: dict[str, Any] = {"compound": name or canonical.smiles, "SMILES": canonical.smiles,
                            label: f"{format_value(value)} {symbol}".strip()}
    quantities = [Quantity(value, unit or None, label)]
    n = _number(rec.get("n_measurements"))
    lo, hi = _number(rec.get("min")), _number(rec.get("max"))
    if n is not None and n > 1:
        data["number of measurements"] = int(n)
        quantities.append(Quantity(int(n)))
        if lo is not None and hi is not None and hi > lo:
            data["reported range"] = f"{format_value(lo)} to {format_value(hi)} {symbol}".strip()
            quantities += [Quantity(lo, unit or None), Quantity(hi, unit or None)]
    return Fact(
        id=str(rec["id"]), kind="property", data=data, quantities=quantities,
        targets=[Quantity(value, unit or None, label)], name=name, names=names, smiles=canonical.smiles,
        inchikey=canonical.inchikey, property_name=prop, value=value, unit=unit,
    )


def _free_fact(rec: dict[str, Any]) -> Fact:
    data = rec.get("data")
    if not isinstance(data, dict) or not data:
        raise ValueError("missing_data")
    targets = []
    for target in rec.get("targets") or []:
        value = _number(target.get("value")) if isinstance(target, dict) else None
        if value is None:
            raise ValueError("non_numeric_value")
        targets.append(Quantity(value, None, str(target.get("label", ""))))
    return Fact(id=str(rec["id"]), kind=rec["kind"], data=data, quantities=_numbers_in(data) + targets, targets=targets)


def facts_from_records(records: list[dict[str, Any]]) -> tuple[list[Fact], Counter[str]]:
    """Validated facts in input order, and the count of rejected records per reason (the build goes on)."""
    facts: list[Fact] = []
    rejects: Counter[str] = Counter()
    seen: set[str] = set()
    for rec in records:
        if not isinstance(rec, dict) or not str(rec.get("id") or "").strip():
            rejects["missing_id"] += 1
            continue
        if str(rec["id"]) in seen:
            rejects["duplicate_id"] += 1
            continue
        kind = rec.get("kind")
        try:
            if kind == "property":
                fact = _property_fact(rec)
            elif kind in ("run", "note"):
                fact = _free_fact(rec)
            else:
                raise ValueError("unknown_kind")
        except ValueError as exc:
            rejects[str(exc)] += 1
            continue
        seen.add(fact.id)
        facts.append(fact)
    return facts, rejects


def read_facts_jsonl(path: Path) -> tuple[list[dict[str, Any]], Counter[str]]:
    """Records of a JSONL facts file; unreadable lines are counted as `malformed_json`, not fatal."""
    if not path.is_file():
        raise FactsFileError(f"facts file {path} does not exist")
    records: list[dict[str, Any]] = []
    rejects: Counter[str] = Counter()
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                rejects["malformed_json"] += 1
    if not records and rejects:
        raise FactsFileError(f"{path} holds no JSON lines ({rejects['malformed_json']} unreadable); expected JSONL")
    return records, rejects
