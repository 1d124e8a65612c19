"""The whole loop on CPU with the tiny toy model: corpus -> train (loss falls) -> save -> evaluate in-process ->
registry -> promotion gate both ways; and a training process killed mid-run resumes from its checkpoint."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from labloop.training.corpus_input import open_corpus
from labloop.training.errors import RegistryError, TrainingError
from labloop.training.pretrain import train
from labloop.training.pretrain.checkpoint import COMPLETE_MARKER, is_complete
from labloop.training.registry import gate, list_versions, promote, promoted_version
from labloop.training.train_job import evaluate_version, train_and_register
from tests.training.conftest import TINY_STEPS, tiny_config


def test_tiny_training_learns_and_saves_a_labelled_toy(tiny_registry) -> None:
    _, trained_tiny, _ = tiny_registry
    m = trained_tiny.metrics
    assert m["steps"] == TINY_STEPS
    assert m["train_loss_last"] < 0.5 * m["train_loss_first"]
    assert m["val_loss_last"] < m["val_loss_first"]
    assert trained_tiny.toy and trained_tiny.kind == "full"
    model_dir = trained_tiny.model_dir
    assert is_complete(model_dir)
    card = json.loads((model_dir / COMPLETE_MARKER).read_text())
    assert card["toy"] is True and card["data_manifest_hash"] == trained_tiny.corpus.manifest_hash
    assert json.loads((model_dir / "config.json").read_text())["labloop_toy"] is True
    out = trained_tiny.out_dir
    assert (out / "train_config.json").is_file() and (out / "data_manifest.json").is_file()
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert sum('"loss"' in line for line in lines) == TINY_STEPS


def test_loop_registry_and_gate_both_ways(corpus_dir: Path, tmp_path: Path, tiny_registry) -> None:
    sqlite_engine, _, good = tiny_registry
    corpus = open_corpus(corpus_dir)
    report = evaluate_version(sqlite_engine, good, corpus, max_new_tokens=12)
    metrics = report.metrics
    assert metrics["toy"] is True and metrics["n"] == 16
    assert metrics["answer_rate"] >= 0.95, metrics
    assert set(metrics["splits"]) == {"trained", "unseen"}
    assert metrics["splits"]["trained"]["mae_k"] < 60  # it has memorised most trained facts
    promoted, decision = promote(sqlite_engine, good.id)
    assert promoted.promoted and decision.promote

    # A barely trained model does not produce #Prediction: the gate keeps the good one.
    _, weak = train_and_register(sqlite_engine, tiny_config(corpus_dir, tmp_path / "weak", max_steps=2))
    weak_report = evaluate_version(sqlite_engine, weak, corpus, max_new_tokens=12)
    assert weak_report.metrics["answer_rate"] < 0.95
    weak = next(v for v in list_versions(sqlite_engine) if v.id == weak.id)
    decision = gate(weak, promoted_version(sqlite_engine))
    assert not decision.promote and any("answer rate" in r for r in decision.reasons)
    with pytest.raises(RegistryError, match="not promoted"):
        promote(sqlite_engine, weak.id)
    assert promoted_version(sqlite_engine).id == good.id
    runs = {v.training_run_id for v in list_versions(sqlite_engine)}
    assert len(runs) == 2


def test_existing_output_dir_is_refused_without_resume(corpus_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "something").write_text("x")
    with pytest.raises(TrainingError, match="--resume"):
        train(tiny_config(corpus_dir, out, max_steps=1))


CRASHING_TRAINER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from tests.training.conftest import TINY_STEPS, tiny_config
    from labloop.training.pretrain import train

    def on_step(step, total, loss):
        if step == 7:
            os.kill(os.getpid(), signal.SIGKILL)   # a hard crash: no cleanup, no finally

    train(tiny_config(Path(sys.argv[1]), Path(sys.argv[2]), max_steps=12, save_every=5, eval_every=0),
          on_step=on_step)
""")


def test_killed_training_resumes_from_checkpoint_and_matches_an_uninterrupted_run(corpus_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "crashy"
    proc = subprocess.run([sys.executable, "-c", CRASHING_TRAINER, str(corpus_dir), str(out)],
                          cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr[-2000:]
    assert not (out / "model").exists()  # nothing half-written to promote
    assert (out / "checkpoints" / "step-0000005").is_dir()

    resumed = train(tiny_config(corpus_dir, out, max_steps=12, save_every=5, eval_every=0, resume=True))
    straight = train(tiny_config(corpus_dir, tmp_path / "straight", max_steps=12, save_every=5, eval_every=0))
    losses = lambda d: [json.loads(line)["loss"] for line in (d / "metrics.jsonl").read_text().splitlines()  # noqa: E731
                        if '"loss"' in line]
    resumed_losses = losses(out)
    assert [json.loads(x)["step"] for x in (out / "metrics.jsonl").read_text().splitlines() if '"loss"' in x][-5:] \
        == [8, 9, 10, 11, 12]
    assert resumed_losses[-5:] == pytest.approx(losses(tmp_path / "straight")[-5:], rel=1e-4)
    assert resumed.metrics["steps"] == 12 and is_complete(resumed.model_dir)


def test_lora_adapter_trains_and_is_labelled(corpus_dir: Path, tmp_path: Path) -> None:
    result = train(tiny_config(corpus_dir, tmp_path / "lora", lora=True, lora_r=4, max_steps=3, eval_every=0))
    assert result.kind == "lora" and result.toy
    assert (result.model_dir / "adapter_config.json").is_file() and is_complete(result.model_dir)


def test_cli_evaluate_stores_only_the_full_evaluation_on_the_trained_corpus(settings, corpus_dir: Path, tmp_path: Path,
                                                                             tiny_registry) -> None:
    """The gate trusts stored metrics, so a --limit or --data evaluation (or another corpus) must not replace them."""
    from typer.testing import CliRunner

    from labloop.cli import app
    from labloop.cli.common import open_engine
    from labloop.training.registry import find_version, register_version
    from tests.training.corpus_fixture import write_corpus

    _, trained_tiny, _ = tiny_registry
    engine = open_engine()
    version = register_version(engine, run_id=None, model_dir=trained_tiny.model_dir, base_model="tiny", kind="full",
                               toy=True, data_manifest_hash=trained_tiny.corpus.manifest_hash, metrics={})
    other_corpus = write_corpus(tmp_path / "other", repeats=1)
    runner = CliRunner()
    base = ["evaluate", "--model-dir", str(trained_tiny.model_dir), "--max-tokens", "12", "--json"]
    for extra in (["--corpus", str(corpus_dir), "--limit", "2"], ["--data", str(corpus_dir / "eval" / "unseen.csv")],
                  ["--corpus", str(other_corpus)]):
        result = runner.invoke(app, base + extra)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["recorded"] is False
        assert "not stored on" in result.stderr
        assert "eval" not in find_version(engine, version.id).metrics
    full = runner.invoke(app, base + ["--corpus", str(corpus_dir)])
    assert full.exit_code == 0 and json.loads(full.stdout)["recorded"] is True
    assert find_version(engine, version.id).metrics["eval"]["n"] == 16
