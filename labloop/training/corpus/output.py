"""What a build leaves on disk: the Hugging Face dataset, the evaluation lists, and the rejected texts."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

from labloop.training.corpus.assemble import SPLIT_NAMES, Assembly
from labloop.training.corpus.facts import Fact
from labloop.training.corpus.numbers import format_value
from labloop.training.corpus.splits import HoldoutRow

EVAL_COLUMNS = ("name", "smiles", "value", "unit")


def write_dataset(assembly: Assembly, directory: Path) -> dict[str, str]:
    """Save train/validation/test with `save_to_disk`; returns a content hash per split (stable across rebuilds)."""
    from datasets import Dataset, DatasetDict, Features, List, Value
    from datasets.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    features = Features({"text": Value("string"), "kind": Value("string"), "style": Value("string"),
                         "fact_ids": List(Value("string"))})
    splits, hashes = {}, {}
    for name in SPLIT_NAMES:
        rows = assembly.split_rows(name)
        columns = {"text": [r.text for r in rows], "kind": [r.kind for r in rows], "style": [r.style for r in rows],
                   "fact_ids": [r.fact_ids for r in rows]}
        splits[name] = Dataset.from_dict(columns, features=features)
        hashes[name] = hashlib.sha256(json.dumps(columns, ensure_ascii=False).encode()).hexdigest()
    quiet = are_progress_bars_disabled()
    disable_progress_bars()  # the CLI shows its own progress; datasets would print one bar per split
    try:
        # an empty split needs an explicit shard, or datasets writes no file and cannot load it back
        empty = {name: 1 for name, ds in splits.items() if len(ds) == 0}
        DatasetDict(splits).save_to_disk(str(directory), num_shards=empty or None)
    finally:
        if not quiet:
            enable_progress_bars()
    return hashes


def _write_eval(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=EVAL_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def write_eval_lists(
    directory: Path, facts: list[Fact], *, exposure: dict[str, int], held_out: set[str],
    holdout_rows: list[HoldoutRow], property: str | None,
) -> dict[str, int]:
    """`trained.csv`: compounds whose value is in at least one train text; `unseen.csv`: held-out compounds."""
    directory.mkdir(parents=True, exist_ok=True)
    props = [f for f in facts if f.kind == "property"]
    common = Counter(f.property_name for f in props).most_common(1)
    prop = property or (common[0][0] if common else None)
    trained, unseen, seen_keys = [], [], set()
    for fact in props:
        if fact.property_name != prop:
            continue
        row = {"name": fact.name, "smiles": fact.smiles, "value": format_value(fact.value), "unit": fact.unit}
        if fact.inchikey in held_out:
            unseen.append(row)
            seen_keys.add(fact.inchikey)
        elif exposure.get(fact.id, 0) > 0:
            trained.append(row)
    for extra in holdout_rows:  # listed compounds the knowledge base does not have, with their values
        if extra.value is not None and extra.inchikey not in seen_keys and (extra.smiles or extra.name):
            unseen.append({"name": extra.name, "smiles": extra.smiles, "value": format_value(extra.value),
                           "unit": extra.unit})
            seen_keys.add(extra.inchikey)
    _write_eval(directory / "trained.csv", trained)
    _write_eval(directory / "unseen.csv", unseen)
    return {"property": prop, "trained": len(trained), "unseen": len(unseen)}


def write_rejects(path: Path, rejects: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for item in rejects:
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")
