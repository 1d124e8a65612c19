"""A training job as the registry sees it: TrainingRun row -> train -> ModelVersion; and evaluating a version."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from labloop.knowledge_base.models import ModelVersion
from labloop.training.corpus_input import CorpusInput, open_corpus
from labloop.training.evaluate import EvalPrompt, EvalReport, InProcessBackend, corpus_splits, evaluate_rows
from labloop.training.evaluate.data import EvalRow, read_eval_data
from labloop.training.pretrain import TrainConfig, TrainResult, train
from labloop.training.registry import (
    finish_training_run,
    record_evaluation,
    register_version,
    start_training_run,
)

log = logging.getLogger(__name__)


def corpus_eval_rows(corpus: CorpusInput) -> list[EvalRow]:
    """The corpus's trained and unseen evaluation compounds."""
    rows: list[EvalRow] = []
    for path in (corpus.trained_csv, corpus.unseen_csv):
        if path is not None:
            rows.extend(read_eval_data(path).rows)
    return rows


def task_metric_callback(corpus: CorpusInput, n_rows: int, prompt: EvalPrompt) -> Callable[[Any, Any, int], dict]:
    """During training: the #Prediction answer rate and MAE on a fixed sample of unseen compounds."""
    rows = read_eval_data(corpus.unseen_csv).rows[:n_rows] if corpus.unseen_csv else []

    def measure(model, tokenizer, step: int) -> dict:
        if not rows:
            return {}
        report = evaluate_rows(rows, InProcessBackend(Path("."), model=model, tokenizer=tokenizer), prompt=prompt)
        return {"task_answer_rate": report.metrics["answer_rate"], "task_mae_k": report.metrics["mae_k"]}

    return measure


def train_and_register(
    engine: Engine, config: TrainConfig, *, on_step: Callable[[int, int, float], None] | None = None,
    prompt: EvalPrompt | None = None,
) -> tuple[TrainResult, ModelVersion]:
    """Run one training job, recorded as a TrainingRun (failed if it raises) and registered as a ModelVersion."""
    corpus = open_corpus(config.corpus_dir)
    base = "tiny (toy, built on the corpus)" if config.tiny else str(Path(config.base_model).resolve())
    run_id = start_training_run(engine, out_dir=Path(config.out_dir).resolve(), base_model=base,
                                config=config.to_json(), toy=config.tiny, corpus_build_id=corpus.corpus_build_id)
    on_validation = task_metric_callback(corpus, config.task_eval_rows, prompt or EvalPrompt()) \
        if config.task_eval_rows > 0 else None
    try:
        result = train(config, on_step=on_step, on_validation=on_validation)
    except BaseException as exc:
        finish_training_run(engine, run_id, status="failed", metrics={"error": f"{type(exc).__name__}: {exc}"[:500]})
        raise
    finish_training_run(engine, run_id, status="complete", metrics=result.metrics)
    version = register_version(
        engine, run_id=run_id, model_dir=result.model_dir, base_model=base, kind=result.kind, toy=result.toy,
        data_manifest_hash=corpus.manifest_hash, metrics={"train": result.metrics},
    )
    log.info("registered %s (%s)", version.name, result.model_dir)
    return result, version


def evaluate_version(
    engine: Engine, version: ModelVersion, corpus: CorpusInput, *, prompt: EvalPrompt | None = None,
    max_new_tokens: int = 64, progress: Callable[[int], None] | None = None,
) -> EvalReport:
    """Evaluate a version in-process on the corpus's trained + unseen compounds and store the metrics on it."""
    rows = corpus_eval_rows(corpus)
    backend = InProcessBackend(Path(version.path), max_new_tokens=max_new_tokens)
    report = evaluate_rows(rows, backend, prompt=prompt, progress=progress,
                           splits=corpus_splits(corpus.trained_csv, corpus.unseen_csv),
                           extra={"model_version": version.name, "toy": version.toy})
    record_evaluation(engine, version.id, report.metrics)
    return report
