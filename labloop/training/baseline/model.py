"""The baseline a chemist would otherwise use: a random forest on RDKit descriptors + a Morgan fingerprint,
trained on consensus values (degC), saved atomically with its split and metrics."""

from __future__ import annotations

import csv
import json
import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from labloop.knowledge_base.types import utcnow
from labloop.training.baseline.features import FEATURE_SPEC, featurize
from labloop.training.baseline.split import random_split, scaffold_split
from labloop.training.errors import EvalDataError, RegistryError
from labloop.training.evaluate.data import EvalRow
from labloop.training.evaluate.metrics import compute_metrics

log = logging.getLogger(__name__)

CARD = "baseline.json"
MODEL_FILE = "model.joblib"
TRAINED_KEYS = "trained_keys.txt"
LABEL = "random forest on RDKit descriptors + Morgan fingerprint (no language model)"


@dataclass
class Baseline:
    """A loaded baseline: the forest, its card, and the keys of the compounds it was trained on."""

    path: Path
    forest: Any
    card: dict[str, Any]
    trained_keys: set[str]

    def predict(self, smiles: Sequence[str], *, n_jobs: int = 1) -> list[float | None]:
        """Predicted values in degC; None where RDKit cannot parse the SMILES."""
        if not smiles:
            return []
        features, ok = featurize(smiles, n_jobs=n_jobs)
        values = self.forest.predict(features) if ok.any() else np.zeros(len(smiles))
        return [float(v) if good else None for v, good in zip(values, ok, strict=True)]

    def evaluate(self, rows: Sequence[EvalRow], *, n_jobs: int = 1) -> dict[str, Any]:
        """The shared metric keys over `rows`, and per split: compounds it was trained on vs unseen ones."""
        predicted = self.predict([r.smiles for r in rows], n_jobs=n_jobs)
        truth = [r.value_c for r in rows]
        metrics: dict[str, Any] = compute_metrics(truth, predicted)
        seen = [(r.inchikey or r.smiles) in self.trained_keys for r in rows]
        metrics["splits"] = {
            name: compute_metrics([t for t, s in zip(truth, seen, strict=True) if s == flag],
                                  [p for p, s in zip(predicted, seen, strict=True) if s == flag])
            for name, flag in (("trained", True), ("unseen", False))
        }
        metrics.update(model=LABEL, toy=False, baseline=str(self.path))
        return metrics


def _write_rows(path: Path, rows: Sequence[EvalRow]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "smiles", "value", "unit"])
        for row in rows:
            writer.writerow([row.name, row.smiles, round(row.value_c, 4), "degC"])


def train_baseline(
    rows: Sequence[EvalRow], out_dir: Path, *, split: str = "random", test_fraction: float = 0.2, seed: int = 0,
    n_estimators: int = 200, max_features: float | str = 0.25, n_jobs: int = 2, data_source: str = "",
    property: str = "melting_point",
) -> dict[str, Any]:
    """Split compounds, fit on the train part, score the held-out part; returns (and saves) the card."""
    import joblib
    from sklearn.ensemble import RandomForestRegressor

    if split not in {"random", "scaffold"}:
        raise ValueError("split must be random or scaffold")
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError("test fraction must be in [0, 1)")
    features, ok = featurize([r.smiles for r in rows], n_jobs=n_jobs)
    usable = [r for r, good in zip(rows, ok, strict=True) if good]
    features = features[ok]
    if len(usable) < 5:
        raise EvalDataError(f"only {len(usable)} compounds with a parseable SMILES; the baseline needs at least 5")
    if test_fraction == 0:
        train_idx, test_idx = np.arange(len(usable)), np.array([], dtype=int)
    elif split == "random":
        train_idx, test_idx = random_split(len(usable), test_fraction=test_fraction, seed=seed)
    else:
        train_idx, test_idx = scaffold_split([r.smiles for r in usable], test_fraction=test_fraction, seed=seed)
    target = np.array([r.value_c for r in usable])
    forest = RandomForestRegressor(n_estimators=n_estimators, max_features=max_features, n_jobs=n_jobs,
                                   random_state=seed)
    forest.fit(features[train_idx], target[train_idx])
    test_metrics = compute_metrics(target[test_idx].tolist(), forest.predict(features[test_idx]).tolist()) \
        if len(test_idx) else None
    card = {
        "label": LABEL, "toy": False, "property": property, "created_at": utcnow().isoformat(), "data": data_source,
        "split": split, "test_fraction": test_fraction, "seed": seed, "n_train": int(len(train_idx)),
        "n_test": int(len(test_idx)), "features": FEATURE_SPEC, "unit": "degC",
        "forest": {"n_estimators": n_estimators, "max_features": max_features},
        "test_metrics": test_metrics,
    }
    partial = out_dir.parent / f".{out_dir.name}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    (partial / "split").mkdir(parents=True)
    joblib.dump(forest, partial / MODEL_FILE)
    (partial / TRAINED_KEYS).write_text("\n".join(usable[i].inchikey or usable[i].smiles for i in train_idx) + "\n")
    _write_rows(partial / "split" / "train.csv", [usable[i] for i in train_idx])
    _write_rows(partial / "split" / "test.csv", [usable[i] for i in test_idx])
    (partial / CARD).write_text(json.dumps(card, indent=2))
    if out_dir.exists():
        shutil.rmtree(out_dir)
    os.replace(partial, out_dir)
    log.info("baseline trained on %d compounds; held-out MAE %s K", len(train_idx), (test_metrics or {}).get("mae_k"))
    return card


def load_baseline(path: Path) -> Baseline:
    """A baseline directory written by `train_baseline` (the card is written last, so its presence means complete)."""
    import joblib

    path = Path(path)
    if not (path / CARD).is_file() or not (path / MODEL_FILE).is_file():
        raise RegistryError(f"{path} is not a trained baseline; run `labloop baseline train` first")
    card = json.loads((path / CARD).read_text())
    keys = set((path / TRAINED_KEYS).read_text().split()) if (path / TRAINED_KEYS).is_file() else set()
    return Baseline(path=path, forest=joblib.load(path / MODEL_FILE), card=card, trained_keys=keys)
