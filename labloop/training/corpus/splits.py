"""Compound-level splits: which structures are held out (random, or whole Bemis-Murcko scaffolds), plus an
explicit hold-out list from a CSV. A trained compound that shares a name with a held-out one is held out too, so
no training text can name a held-out compound, even by a shared synonym.
"""

from __future__ import annotations

import csv
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labloop.training.corpus.facts import Fact
from labloop.training.corpus.leak import HeldOut

SPLITS = ("random", "scaffold")


class HoldoutFileError(ValueError):
    """A hold-out CSV that cannot be used (missing, no name/smiles/inchikey column)."""


@dataclass
class HoldoutRow:
    name: str = ""
    smiles: str = ""
    inchikey: str = ""
    value: float | None = None
    unit: str = ""


@dataclass
class Split:
    """Held-out InChIKeys, every identifier to keep out of training text, and a summary for the manifest."""

    held_out_keys: set[str]
    held_out: HeldOut
    holdout_rows: list[HoldoutRow] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)


def read_holdout_csv(path: Path) -> tuple[list[HoldoutRow], dict[str, int]]:
    """Rows of a hold-out list (columns name, smiles, inchikey, optional value and unit; case-insensitive)."""
    from labloop.knowledge_base.chem import InvalidSmiles, canonicalize

    if not path.is_file():
        raise HoldoutFileError(f"hold-out list {path} does not exist")
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
        reader = csv.DictReader(fh)
        columns = {c.strip().lower(): c for c in reader.fieldnames or [] if c}
        if not {"name", "smiles", "inchikey"} & columns.keys():
            raise HoldoutFileError(
                f"hold-out list {path} needs a header with a name, smiles or inchikey column (found {sorted(columns)})"
            )
        rows, problems = [], defaultdict(int)
        for raw in reader:
            cell = {k: (raw.get(orig) or "").strip() for k, orig in columns.items()}
            row = HoldoutRow(name=cell.get("name", ""), inchikey=cell.get("inchikey", "").upper(),
                             unit=cell.get("unit", "") or "degC")
            if cell.get("smiles"):
                try:
                    canonical = canonicalize(cell["smiles"], allow_mixtures=True)
                    row.smiles, row.inchikey = canonical.smiles, row.inchikey or canonical.inchikey
                except InvalidSmiles:
                    problems["invalid_smiles"] += 1
            try:
                row.value = float(cell["value"]) if cell.get("value") else None
            except ValueError:
                problems["non_numeric_value"] += 1
            if not (row.name or row.smiles or row.inchikey):
                problems["empty_row"] += 1
                continue
            rows.append(row)
    return rows, dict(problems)


def _scaffold(smiles: str) -> str:
    from rdkit.Chem.Scaffolds import MurckoScaffold

    try:
        return MurckoScaffold.MurckoScaffoldSmiles(smiles=smiles, includeChirality=False)
    except Exception:  # noqa: BLE001 - RDKit raises assorted types; an unusable structure gets its own group
        return f"unparsed:{smiles}"


def _pick(compounds: dict[str, Fact], method: str, fraction: float, seed: int, fixed: set[str]) -> set[str]:
    """Keys to hold out so about `fraction` of compounds are held out in all (the fixed ones count)."""
    target = math.floor(len(compounds) * fraction + 0.5)
    free = sorted(k for k in compounds if k not in fixed)
    rng = random.Random(seed)
    if method == "random":
        rng.shuffle(free)
        return set(free[: max(0, target - len(fixed))])
    groups: dict[str, list[str]] = defaultdict(list)
    for key in free:
        groups[_scaffold(compounds[key].smiles)].append(key)
    order = sorted(groups)
    rng.shuffle(order)
    chosen: set[str] = set()
    need = target - len(fixed)
    for scaffold in order:
        members = groups[scaffold]
        if len(chosen) + len(members) <= need:
            chosen.update(members)
        if len(chosen) >= need:
            break
    return chosen


def make_split(
    facts: list[Fact], *, method: str, test_fraction: float, seed: int, holdout_rows: list[HoldoutRow] = (),
) -> Split:
    """Hold out the listed compounds plus a random or scaffold share of the rest; see the module docstring."""
    if method not in SPLITS:
        raise ValueError(f"unknown split {method!r}; use one of {', '.join(SPLITS)}")
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test fraction must be in [0, 1), got {test_fraction}")
    compounds: dict[str, Fact] = {}
    names: dict[str, set[str]] = defaultdict(set)
    for fact in facts:
        if fact.kind == "property":
            compounds.setdefault(fact.inchikey, fact)
            for n in fact.names or (fact.name,):
                if n:
                    names[n.strip().lower()].add(fact.inchikey)
    by_smiles = {f.smiles: k for k, f in compounds.items()}
    listed: set[str] = set()
    for row in holdout_rows:
        listed |= {k for k in (row.inchikey, by_smiles.get(row.smiles, "")) if k in compounds}
        listed |= names.get(row.name.lower(), set()) if row.name else set()
    held = listed | _pick(compounds, method, test_fraction, seed, listed)
    by_name_closure = 0
    changed = True
    while changed:  # a shared name pulls the other structure into the held-out side
        changed = False
        for keys in names.values():
            if keys & held and not keys <= held:
                by_name_closure += len(keys - held)
                held |= keys
                changed = True
    identifiers = HeldOut()
    for key in held:
        fact = compounds[key]
        identifiers.add(inchikey=key, smiles=fact.smiles, names=fact.names or (fact.name,))
    for row in holdout_rows:
        identifiers.add(inchikey=row.inchikey, smiles=row.smiles, names=(row.name,))
    info = {
        "method": method, "test_fraction": test_fraction, "seed": seed, "compounds": len(compounds),
        "held_out": len(held), "trained": len(compounds) - len(held), "from_holdout_list": len(listed),
        "holdout_rows": len(holdout_rows), "added_by_shared_name": by_name_closure,
    }
    return Split(held_out_keys=held, held_out=identifiers, holdout_rows=list(holdout_rows), info=info)
