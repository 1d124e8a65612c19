"""Evaluation over real HTTP against the scripted OpenAI-compatible server: known answers give known metrics,
failures count as unanswered, concurrency stays bounded; and the CLI's --json object."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from typer.testing import CliRunner

from labloop.cli import app
from labloop.training.evaluate import EndpointBackend, corpus_splits, evaluate_rows, read_eval_data
from labloop.training.evaluate.metrics import METRIC_KEYS
from tests.support.openai_server import Reply

# name -> the scripted answer (true values: see corpus_fixture)
ANSWERS = {
    "benzoic acid": "#Reason: dimers.\n#Prediction: 132",        # error 10
    "naphthalene": "#Prediction: 60-70",                          # range -> 65, error 15
    "acetanilide": "#Prediction: N/A",                            # unanswered
    "urea": "I think 133.",                                       # no section
    "acetylsalicylic acid": "#Prediction: 408.15 K",              # 135 degC, error 0
    "paracetamol": "#Prediction: 100 or 200",                     # ambiguous
}


def _handler(request: dict) -> Reply:
    prompt = request["messages"][0]["content"]
    name = prompt.split("#Name: ")[1].split("\n")[0]
    return Reply.text(ANSWERS.get(name, "#Prediction: 0"))


def _rows(corpus_dir: Path):
    wanted = set(ANSWERS)
    rows = read_eval_data(corpus_dir / "eval" / "trained.csv").rows + read_eval_data(corpus_dir / "eval" / "unseen.csv").rows
    return [r for r in rows if r.name in wanted]


def test_known_answers_give_known_metrics(openai_server, settings, corpus_dir: Path) -> None:
    openai_server.handler = _handler
    backend = EndpointBackend(settings, base_url=openai_server.base_url, model="labloop-v1", concurrency=3)
    report = evaluate_rows(_rows(corpus_dir), backend, splits=corpus_splits(corpus_dir / "eval" / "trained.csv",
                                                                            corpus_dir / "eval" / "unseen.csv"))
    m = report.metrics
    assert (m["n"], m["answered"], m["answer_rate"]) == (6, 3, 0.5)
    assert m["mae_k"] == round((10 + 15 + 0) / 3, 4)
    assert m["medae_k"] == 10.0 and m["within_25k"] == 1.0
    assert m["outcomes"] == {"ok": 2, "range": 1, "no_number": 1, "missing": 1, "ambiguous": 1}
    assert m["splits"]["trained"]["n"] == 4 and m["splits"]["trained"]["answered"] == 2
    assert m["splits"]["unseen"] == {**m["splits"]["unseen"], "n": 2, "answered": 1, "mae_k": 0.0}
    assert len(openai_server.requests) == 6
    assert all(r["model"] == "labloop-v1" and r["temperature"] == 0.0 for r in openai_server.requests)


def test_errors_and_garbage_are_unanswered_after_bounded_retries(openai_server, settings, corpus_dir: Path) -> None:
    calls = []

    def handler(request: dict) -> Reply:
        calls.append(1)
        return Reply.error(500) if len(calls) % 2 else Reply.garbage()

    openai_server.handler = handler
    backend = EndpointBackend(settings, base_url=openai_server.base_url, model="m", concurrency=2, retries=1)
    report = evaluate_rows(_rows(corpus_dir)[:3], backend)
    assert report.metrics["answered"] == 0 and report.metrics["outcomes"] == {"error": 3}
    assert len(calls) == 6  # 1 try + 1 retry each, then recorded as failed
    assert all(r.answer.error for r in report.results)


def test_concurrency_is_bounded(openai_server, settings, corpus_dir: Path) -> None:
    lock, state = threading.Lock(), {"now": 0, "max": 0}

    def handler(request: dict) -> Reply:
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.05)
        with lock:
            state["now"] -= 1
        return Reply.text("#Prediction: 100")

    openai_server.handler = handler
    rows = _rows(corpus_dir) * 4
    backend = EndpointBackend(settings, base_url=openai_server.base_url, model="m", concurrency=3)
    report = evaluate_rows(rows, backend)
    assert report.metrics["answered"] == len(rows)
    assert 1 < state["max"] <= 3


def test_cli_evaluate_json_against_endpoint(openai_server, settings, corpus_dir: Path, tmp_path: Path) -> None:
    openai_server.handler = _handler
    result = CliRunner().invoke(app, [
        "evaluate", "--endpoint", openai_server.base_url, "--model", "labloop-v1", "--corpus", str(corpus_dir),
        "--json", "--predictions", str(tmp_path / "p.csv"), "--plot", str(tmp_path / "p.png"),
    ])
    assert result.exit_code == 0, result.output
    obj = json.loads(result.stdout)
    assert set(METRIC_KEYS) <= set(obj) and obj["n"] == 16 and set(obj["splits"]) == {"trained", "unseen"}
    assert (tmp_path / "p.png").stat().st_size > 1000
    import csv

    assert len(list(csv.reader((tmp_path / "p.csv").open()))) == 17


def test_cli_evaluate_refuses_bad_arguments(settings, corpus_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    neither = runner.invoke(app, ["evaluate", "--corpus", str(corpus_dir)])
    assert neither.exit_code == 1 and "--endpoint" in neither.output
    no_data = runner.invoke(app, ["evaluate", "--model-dir", str(tmp_path)])
    assert no_data.exit_code == 1 and "--data" in no_data.output
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("a,b\n")
    bad = runner.invoke(app, ["evaluate", "--endpoint", "http://127.0.0.1:9/v1", "--model", "m", "--data", str(bad_csv)])
    assert bad.exit_code == 1 and "expected name,smiles,value,unit" in bad.output
    assert "Traceback" not in bad.output
