"""Fixtures of the learning-loop tests: a corpus directory and a tiny toy model trained once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.training.corpus_fixture import write_corpus

TINY_STEPS = 200


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus") / "corpus", repeats=16)


def tiny_config(corpus: Path, out: Path, **overrides):
    from labloop.training.pretrain import TrainConfig

    values = dict(corpus_dir=corpus, out_dir=out, tiny=True, lr=3e-3, block_size=128, batch_size=8, grad_accum=1,
                  max_steps=TINY_STEPS, eval_every=100, save_every=0, seed=7)
    values.update(overrides)
    return TrainConfig(**values)


@pytest.fixture(scope="session")
def tiny_registry(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """A toy model that has learnt the #Prediction format, registered in a session-wide SQLite knowledge base:
    (engine, TrainResult, ModelVersion). Trained once because CPU time is shared."""
    from labloop.training.train_job import train_and_register
    from tests.support.db import migrated_sqlite

    root = tmp_path_factory.mktemp("tiny")
    _, engine = migrated_sqlite(root / "kb.sqlite")
    result, version = train_and_register(engine, tiny_config(corpus_dir, root / "run"))
    yield engine, result, version
    engine.dispose()
