"""The random-forest baseline: CLI train/evaluate with JSON, scaffold split, bad input; a shared-data subset check."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from labloop.cli import app
from labloop.training.baseline import load_baseline, train_baseline
from labloop.training.errors import EvalDataError, RegistryError
from labloop.training.evaluate.data import EvalRow, read_eval_data
from labloop.training.evaluate.metrics import METRIC_KEYS
from tests.training.corpus.conftest import COMPOUNDS


def _csv(path: Path) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "smiles", "value", "unit"])
        writer.writerows([n, s, v, "degC"] for n, s, v in [*COMPOUNDS, ("broken", "c1cncn1", 90)])
    return path


def test_cli_train_and_evaluate_json(settings, tmp_path: Path) -> None:
    data = _csv(tmp_path / "mp.csv")
    runner = CliRunner()
    trained = runner.invoke(app, ["baseline", "train", "--data", str(data), "--out", str(tmp_path / "bl"),
                                  "--trees", "20", "--n-jobs", "1", "--test-fraction", "0.25", "--json"])
    assert trained.exit_code == 0, trained.output
    card = json.loads(trained.stdout)
    assert card["n_train"] + card["n_test"] == len(COMPOUNDS) and card["toy"] is False
    evaluated = runner.invoke(app, ["baseline", "evaluate", "--model", str(tmp_path / "bl"), "--data", str(data),
                                    "--json", "--plot", str(tmp_path / "parity.png"), "--n-jobs", "1"])
    assert evaluated.exit_code == 0, evaluated.output
    metrics = json.loads(evaluated.stdout)
    assert set(METRIC_KEYS) <= set(metrics)
    assert metrics["n"] == len(COMPOUNDS) + 1 and metrics["answered"] == len(COMPOUNDS)  # no features: unanswered
    assert metrics["splits"]["trained"]["n"] == card["n_train"]
    assert metrics["splits"]["unseen"]["n"] == card["n_test"] + 1
    assert (tmp_path / "parity.png").stat().st_size > 1000
    held_out = read_eval_data(tmp_path / "bl" / "split" / "test.csv")
    assert len(held_out.rows) == card["n_test"]


def test_scaffold_split_keeps_scaffolds_apart(tmp_path: Path) -> None:
    from labloop.training.baseline.split import scaffold_split

    smiles = ["c1ccccc1O", "c1ccccc1N", "c1ccccc1C", "C1CCCCC1O", "C1CCCCC1N", "c1ccncc1", "CCO", "CCN"]
    train, test = scaffold_split(smiles, test_fraction=0.3, seed=0)
    assert sorted([*train, *test]) == list(range(len(smiles)))
    rows = [EvalRow(name=s, smiles=s, value_c=float(i)) for i, s in enumerate(smiles)]
    card = train_baseline(rows, tmp_path / "bl", split="scaffold", test_fraction=0.3, n_estimators=5, n_jobs=1)
    assert card["split"] == "scaffold" and card["n_test"] == len(test)


def test_bad_input(settings, tmp_path: Path) -> None:
    with pytest.raises(EvalDataError, match="at least 5"):
        train_baseline([EvalRow("x", "CCO", 1.0)], tmp_path / "bl", n_jobs=1)
    with pytest.raises(ValueError, match="split"):
        train_baseline([EvalRow("x", "CCO", 1.0)] * 6, tmp_path / "bl", split="alphabetical", n_jobs=1)
    with pytest.raises(RegistryError, match="labloop baseline train"):
        load_baseline(tmp_path / "nothing")
    runner = CliRunner()
    empty_kb = runner.invoke(app, ["baseline", "train"])
    assert empty_kb.exit_code == 1 and "no melting point values" in empty_kb.output
    missing = runner.invoke(app, ["baseline", "evaluate", "--data", str(tmp_path / "x.csv")])
    assert missing.exit_code == 1 and "Traceback" not in missing.output


def test_bradley_subset_random_split(shared_data: Path, tmp_path: Path) -> None:
    """Integration: 2,500 Bradley compounds (the full-file figure, MAE 28.7 K, is in docs/learning.md)."""
    rows = read_eval_data(shared_data / "melting_points" / "bradley_open_mp.csv").rows[:2500]
    card = train_baseline(rows, tmp_path / "bl", n_estimators=60, n_jobs=2, seed=0)
    assert card["test_metrics"]["n"] == 500
    assert card["test_metrics"]["mae_k"] < 45.0, card["test_metrics"]
