"""`labloop retrain`: the scheduled loop. Under a lock: new records since the last corpus build -> build the
corpus -> train -> evaluate -> promote or keep the old model -> report. Safe to run again after any crash:
a finished corpus build without a finished training run is trained on, and an interrupted run resumes."""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import select

from labloop.config import Settings
from labloop.knowledge_base.db import session_scope
from labloop.knowledge_base.models import (
    CorpusBuild,
    ModelVersion,
    NoteRevision,
    Observation,
    PropertyConsensus,
    PropertyMeasurement,
    Result,
    Run,
    TrainingRun,
)
from labloop.knowledge_base.types import utcnow
from labloop.training.corpus_input import open_corpus
from labloop.training.errors import RetrainLocked
from labloop.training.pretrain import TrainConfig
from labloop.training.registry import DEFAULT_TOLERANCE_K, gate, promote, promoted_version
from labloop.training.train_job import evaluate_version, train_and_register

log = logging.getLogger(__name__)

# The records the corpus is built from, and the column that says when each appeared.
RECORD_CLOCKS = {
    "property measurements": PropertyMeasurement.created_at,
    "property values": PropertyConsensus.updated_at,
    "finished runs": Run.stopped_at,
    "results": Result.created_at,
    "observations": Observation.created_at,
    "note revisions": NoteRevision.created_at,
}


@dataclass
class RetrainConfig:
    """What the scheduled job trains: a local base model (or the tiny toy), and how strict promotion is."""

    base_model: Path | None = None
    tiny: bool = False
    lora: bool = False
    epochs: float = 1.0
    lr: float = 2e-5
    block_size: int = 2048
    batch_size: int = 1
    grad_accum: int = 8
    max_steps: int | None = None
    tolerance_k: float = DEFAULT_TOLERANCE_K
    force: bool = False
    """Build and train even when nothing is new."""
    corpus_options: dict[str, Any] = field(default_factory=dict)
    """Extra CorpusConfig fields (texts_per_fact, max_facts, split, ...)."""


@contextmanager
def retrain_lock(path: Path) -> Iterator[None]:
    """An exclusive, non-blocking lock on `path` (released by the OS if the holder dies)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise RetrainLocked(
            f"another `labloop retrain` is running ({holder}); this one exits without doing anything. "
            f"If no retrain is running, the lock file {path} is stale only if its process is gone."
        ) from None
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {utcnow().isoformat(timespec='seconds')}")
        handle.flush()
        yield
    finally:
        handle.seek(0)
        handle.truncate()
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def new_records_since(engine: Engine, since: datetime | None) -> dict[str, int]:
    """How many records of each kind appeared after `since` (all of them when there was no build)."""
    counts: dict[str, int] = {}
    with session_scope(engine) as session:
        for label, column in RECORD_CLOCKS.items():
            query = select(func.count()).select_from(column.class_).where(column.is_not(None))
            if since is not None:
                query = query.where(column > since)
            counts[label] = int(session.exec(query).one())
    return counts


def _pending_build(engine: Engine) -> tuple[CorpusBuild | None, CorpusBuild | None]:
    """(last complete build, that build again if no training run finished on it yet)."""
    with session_scope(engine) as session:
        last = session.exec(select(CorpusBuild).where(CorpusBuild.status == "complete")
                            .order_by(CorpusBuild.id.desc())).first()
        if last is None:
            return None, None
        trained = session.exec(select(TrainingRun).where(TrainingRun.corpus_build_id == last.id,
                                                         TrainingRun.status == "complete")).first()
        return last, (None if trained else last)


def _unjudged_version(engine: Engine, build: CorpusBuild) -> ModelVersion | None:
    """The model trained on `build` that was registered but never evaluated (a pass died in between)."""
    with session_scope(engine) as session:
        versions = session.exec(
            select(ModelVersion).join(TrainingRun, ModelVersion.training_run_id == TrainingRun.id)
            .where(TrainingRun.corpus_build_id == build.id).order_by(ModelVersion.id.desc())
        ).all()
        return next((v for v in versions if "eval" not in (v.metrics or {})), None)


def retrain(engine: Engine, settings: Settings, config: RetrainConfig, *,
            on_stage: Callable[[str], None] | None = None, corpus_progress=None,
            on_step: Callable[[int, int, float], None] | None = None) -> dict[str, Any]:
    """One pass of the loop; returns (and writes to reports_dir) a report of what it did and why."""
    from labloop.training.corpus.build import build_corpus
    from labloop.training.corpus.config import CorpusConfig

    def stage(text: str) -> None:
        log.info("retrain: %s", text)
        if on_stage is not None:
            on_stage(text)

    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    report: dict[str, Any] = {"started_at": utcnow().isoformat(), "config": _jsonable(asdict(config))}
    with retrain_lock(settings.models_dir / "retrain.lock"):
        last, pending = _pending_build(engine)
        unjudged = _unjudged_version(engine, last) if last is not None and pending is None else None
        new = new_records_since(engine, last.created_at if last else None)
        report["new_records"] = new
        version = None
        if unjudged is not None:
            build_dir, build_id, version = Path(last.out_dir), last.id, unjudged
            stage(f"{version.name} (corpus build {build_id}) was trained but never evaluated; evaluating it now")
        elif pending is not None:
            build_dir, build_id = Path(pending.out_dir), pending.id
            stage(f"corpus build {build_id} was never trained on; training on it")
        elif last is not None and sum(new.values()) == 0 and not config.force:
            current = promoted_version(engine)
            report["outcome"] = "nothing new since the last corpus build; " + (
                f"kept {current.name}" if current else "no model is promoted")
            return _finish(settings, report, stamp)
        else:
            stage(f"new records: {', '.join(f'{v} {k}' for k, v in new.items() if v) or 'none (forced)'}; building corpus")
            corpus_config = CorpusConfig(out_dir=settings.models_dir / "corpora" / f"build-{stamp}",
                                         **config.corpus_options)
            built = build_corpus(corpus_config, engine=engine, settings=settings, progress=corpus_progress)
            build_dir, build_id = built.out_dir, built.corpus_build_id
        report["corpus"] = {"build_id": build_id, "dir": str(build_dir)}
        if version is None:
            version = _train(engine, config, build_dir, build_id, settings, report, stage, on_step)
        stage(f"evaluating {version.name}")
        evaluation = evaluate_version(engine, version, open_corpus(build_dir)).metrics
        report["evaluation"] = evaluation
        current = promoted_version(engine)
        version.metrics = {**version.metrics, "eval": evaluation}
        decision = gate(version, current, tolerance_k=config.tolerance_k)
        report["gate"] = {"promote": decision.promote, "reasons": decision.reasons,
                          "previous": current.name if current else None}
        if decision.promote:
            promote(engine, version.id, tolerance_k=config.tolerance_k, serving_link=settings.promoted_link)
            report["outcome"] = f"promoted {version.name}"
        else:
            report["outcome"] = (f"kept {current.name}" if current else "no model promoted") + \
                f"; {version.name} not promoted: {'; '.join(decision.reasons)}"
        stage(report["outcome"])
        return _finish(settings, report, stamp)


def _train(engine: Engine, config: RetrainConfig, build_dir: Path, build_id: int, settings: Settings,
           report: dict[str, Any], stage: Callable[[str], None],
           on_step: Callable[[int, int, float], None] | None) -> ModelVersion:
    run_dir = settings.models_dir / "runs" / f"corpus-{build_id}"
    train_config = TrainConfig(
        corpus_dir=build_dir, out_dir=run_dir, base_model=config.base_model, tiny=config.tiny, lora=config.lora,
        epochs=config.epochs, lr=config.lr, block_size=config.block_size, batch_size=config.batch_size,
        grad_accum=config.grad_accum, max_steps=config.max_steps,
        resume=run_dir.exists() and any(run_dir.iterdir()),
    )
    stage(f"training on corpus build {build_id} into {run_dir}" + (" (resuming)" if train_config.resume else ""))
    result, version = train_and_register(engine, train_config, on_step=on_step)
    report["trained"] = {"version": version.name, "path": version.path, "toy": version.toy, "train": result.metrics}
    return version


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _finish(settings: Settings, report: dict[str, Any], stamp: str) -> dict[str, Any]:
    report["finished_at"] = utcnow().isoformat()
    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    path = settings.reports_dir / f"retrain-{stamp}.json"
    path.write_text(json.dumps(_jsonable(report), indent=2))
    report["report_path"] = str(path)
    return report
