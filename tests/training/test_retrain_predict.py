"""`labloop retrain` (lock held by another process, first run through the real corpus build over HTTP,
idempotent second run) and the chat's `predict_property` (baseline only, promoted toy model, served endpoint)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from labloop.knowledge_base.chem import InvalidSmiles
from labloop.knowledge_base.db import get_engine, session_scope
from labloop.knowledge_base.models import ModelVersion
from labloop.training.baseline import train_baseline
from labloop.training.evaluate.data import EvalRow
from labloop.training.predict import PredictionUnavailable, baseline_dir, predict_property
from labloop.training.registry import list_versions, promote
from labloop.training.retrain import RetrainConfig, retrain
from tests.support.openai_server import Reply
from tests.training.corpus.conftest import COMPOUNDS, add_compounds
from tests.training.corpus.scripted import obeying_text

ROOT = Path(__file__).resolve().parents[2]

HOLD_LOCK = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from labloop.training.retrain import retrain_lock
    with retrain_lock(Path(sys.argv[1])):
        print("locked", flush=True)
        time.sleep(60)
""")


def test_second_retrain_exits_with_a_clear_message(settings) -> None:
    get_engine(settings).dispose()
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(settings.models_dir / "retrain.lock")],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        second = subprocess.run([sys.executable, "-m", "labloop", "retrain", "--tiny"], cwd=ROOT, env=os.environ,
                                capture_output=True, text=True, timeout=120)
        assert second.returncode == 1
        assert "another `labloop retrain` is running" in second.stderr and f"pid {holder.pid}" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        holder.kill()
        holder.wait()


def test_retrain_builds_trains_evaluates_and_is_idempotent(settings, openai_server) -> None:
    openai_server.handler = lambda request: Reply.text(obeying_text(request))
    settings = settings.model_copy(update={"llm_base_url": openai_server.base_url, "llm_model": "scripted-model"})
    engine = get_engine(settings)
    add_compounds(engine)
    config = RetrainConfig(tiny=True, max_steps=20, lr=3e-3, block_size=128, batch_size=4, grad_accum=1,
                           corpus_options={"texts_per_fact": 2, "test_fraction": 0.25, "validation_fraction": 0.1})
    stages: list[str] = []
    report = retrain(engine, settings, config, on_stage=stages.append)
    assert report["corpus"]["build_id"] == 1
    assert report["trained"]["toy"] is True and report["evaluation"]["n"] == len(COMPOUNDS)
    assert report["gate"]["promote"] is (report["evaluation"]["answer_rate"] >= 0.95)
    assert Path(report["report_path"]).is_file()
    versions = list_versions(engine)
    assert len(versions) == 1 and versions[0].metrics["eval"]["n"] == len(COMPOUNDS)
    requests = len(openai_server.requests)

    again = retrain(engine, settings, config)
    assert again["outcome"].startswith("nothing new")
    assert len(openai_server.requests) == requests and len(list_versions(engine)) == 1
    current = next((v for v in versions if v.promoted), None)
    assert again["outcome"].endswith(f"kept {current.name}" if current else "no model is promoted")

    # a pass that died after registering its model but before evaluating it: the next pass judges that model
    with session_scope(engine) as session:
        row = session.get(ModelVersion, versions[0].id)
        row.metrics = {k: v for k, v in row.metrics.items() if k != "eval"}
        session.add(row)
    resumed = retrain(engine, settings, config, on_stage=stages.append)
    assert "was trained but never evaluated" in stages[-3] and "trained" not in resumed
    assert resumed["evaluation"]["n"] == len(COMPOUNDS) and len(list_versions(engine)) == 1
    assert "eval" in list_versions(engine)[0].metrics and len(openai_server.requests) == requests
    engine.dispose()


@pytest.fixture
def with_baseline(settings) -> Path:
    rows = [EvalRow(name=n, smiles=s, value_c=v) for n, s, v in COMPOUNDS]
    train_baseline(rows, baseline_dir(settings), test_fraction=0.0, n_estimators=20, n_jobs=1)
    return baseline_dir(settings)


def test_prediction_without_a_promoted_model_uses_the_baseline_and_says_so(settings, with_baseline) -> None:
    engine = get_engine(settings)
    predictions = predict_property(engine, "OC(=O)c1ccccc1O", settings=settings)
    assert len(predictions) == 1
    only = predictions[0]
    assert only.model_version_id is None and not only.toy and only.unit == "degC"
    assert "baseline" in only.label and only.provenance["why"] == "no trained model is promoted"
    assert 0 < only.value < 300
    with pytest.raises(InvalidSmiles):
        predict_property(engine, "not a smiles((", settings=settings)
    with pytest.raises(PredictionUnavailable, match="supported"):
        predict_property(engine, "CCO", property="boiling_point", settings=settings)


def test_prediction_with_nothing_trained_says_what_to_do(settings) -> None:
    with pytest.raises(PredictionUnavailable, match="labloop baseline train"):
        predict_property(get_engine(settings), "CCO", settings=settings)


def test_promoted_toy_model_in_process_and_through_the_served_endpoint(settings, with_baseline, tiny_registry,
                                                                       openai_server) -> None:
    from labloop.training.registry import register_version

    _, result, _ = tiny_registry
    engine = get_engine(settings)
    version = register_version(engine, run_id=None, model_dir=result.model_dir, base_model="tiny", kind="full",
                               toy=True, data_manifest_hash="h", metrics={})
    promote(engine, version.id, force=True)
    predictions = predict_property(engine, "OC(=O)c1ccccc1", settings=settings, name="benzoic acid")
    model, baseline = predictions
    assert model.toy and "TOY" in model.label and model.model_version_id == version.id
    assert model.provenance["endpoint"].startswith("in-process")
    assert "#Prediction" in model.provenance["raw_answer"]
    assert baseline.provenance["why"] == "shown for comparison with the promoted model"

    openai_server.enqueue(Reply.text("#Reason: acid dimers.\n#Prediction: 121 °C"))
    served = settings.model_copy(update={"llm_base_url": openai_server.base_url, "llm_model": version.name})
    model, _ = predict_property(engine, "OC(=O)c1ccccc1", settings=served)
    assert model.value == 121.0 and model.provenance["endpoint"] == openai_server.base_url
    assert openai_server.requests[-1]["model"] == version.name

    openai_server.enqueue(Reply.text("#Prediction: N/A"))
    only = predict_property(engine, "OC(=O)c1ccccc1", settings=served)
    assert len(only) == 1 and "gave no usable #Prediction (no_number)" in only[0].provenance["why"]
