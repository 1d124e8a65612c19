"""The model registry: training runs, model versions, the promotion gate, promote and rollback.

At most one version is promoted. `promoted_at` doubles as the promotion history: a version keeps it while it is
on the stack of past promotions; rollback clears it on the current version and re-promotes the one before.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import select

from labloop.knowledge_base.db import session_scope
from labloop.knowledge_base.models import ModelVersion, TrainingRun
from labloop.knowledge_base.types import utcnow
from labloop.training.errors import RegistryError
from labloop.training.pretrain.checkpoint import is_complete

log = logging.getLogger(__name__)

MIN_ANSWER_RATE = 0.95
DEFAULT_TOLERANCE_K = 5.0


@dataclass(frozen=True)
class GateDecision:
    """Whether a candidate may replace the promoted model, and the reasons either way."""

    promote: bool
    reasons: list[str] = field(default_factory=list)


def unseen_mae(metrics: dict[str, Any]) -> float | None:
    """MAE on unseen compounds from an evaluation object (the overall MAE when it has no splits)."""
    evaluation = metrics.get("eval") or {}
    unseen = (evaluation.get("splits") or {}).get("unseen")
    return (unseen or evaluation).get("mae_k")


def _finite(value: Any) -> float | None:
    """A metric as a float, or None when it is missing, not a number, NaN or infinite."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _answer_rate(evaluation: dict[str, Any]) -> float | None:
    """answered / n when both are recorded (the stored answer_rate is rounded), else the stored rate."""
    answered, n = _finite(evaluation.get("answered")), _finite(evaluation.get("n"))
    if answered is not None and n:
        return answered / n
    return _finite(evaluation.get("answer_rate"))


def gate(candidate: ModelVersion, current: ModelVersion | None, *, tolerance_k: float = DEFAULT_TOLERANCE_K,
         min_answer_rate: float = MIN_ANSWER_RATE) -> GateDecision:
    """Promote only a complete, evaluated model that answers >= 95% and does not worsen unseen MAE by > tolerance."""
    reasons: list[str] = []
    if not is_complete(Path(candidate.path)):
        return GateDecision(False, [f"{candidate.path} is not a completely written model"])
    evaluation = candidate.metrics.get("eval")
    if not evaluation:
        return GateDecision(False, ["the candidate has not been evaluated"])
    rate = _answer_rate(evaluation)
    if rate is None:
        reasons.append(f"no valid answer rate in its evaluation ({evaluation.get('answer_rate')!r})")
    elif rate < min_answer_rate:
        reasons.append(f"answer rate {rate:.2%} is below {min_answer_rate:.0%}")
    mae = _finite(unseen_mae(candidate.metrics))
    if mae is None:
        reasons.append("no valid unseen-compound MAE (no answered unseen compounds, or not a number)")
    if current is not None and current.id != candidate.id:
        if candidate.toy and not current.toy:
            reasons.append(f"a toy model never replaces the real model {current.name}")
        current_mae = _finite(unseen_mae(current.metrics))
        if mae is not None and current_mae is not None and mae > current_mae + tolerance_k:
            reasons.append(
                f"unseen MAE {mae:.1f} K is worse than {current.name}'s {current_mae:.1f} K by more than {tolerance_k:g} K"
            )
    if reasons:
        return GateDecision(False, reasons)
    baseline = f" (current {current.name}: {unseen_mae(current.metrics)} K)" if current is not None else ""
    return GateDecision(True, [f"answer rate {rate:.1%}, unseen MAE {mae:.1f} K{baseline}"])


def start_training_run(engine: Engine, *, out_dir: Path, base_model: str, config: dict[str, Any], toy: bool,
                       corpus_build_id: int | None) -> int:
    """A TrainingRun for `out_dir`; a resumed run reuses its unfinished row."""
    with session_scope(engine) as session:
        existing = session.exec(
            select(TrainingRun).where(TrainingRun.out_dir == str(out_dir), TrainingRun.status != "complete")
            .order_by(TrainingRun.id.desc())
        ).first()
        if existing is not None and config.get("resume"):
            existing.status = "running"
            session.add(existing)
            return existing.id
        row = TrainingRun(out_dir=str(out_dir), base_model=base_model, config=config, toy=toy,
                          corpus_build_id=corpus_build_id)
        session.add(row)
        session.flush()
        return row.id


def finish_training_run(engine: Engine, run_id: int, *, status: str, metrics: dict[str, Any] | None = None) -> None:
    with session_scope(engine) as session:
        row = session.get(TrainingRun, run_id)
        row.status = status
        row.metrics = dict(metrics or {})
        row.finished_at = utcnow()
        session.add(row)


def register_version(engine: Engine, *, run_id: int | None, model_dir: Path, base_model: str, kind: str, toy: bool,
                     data_manifest_hash: str, metrics: dict[str, Any]) -> ModelVersion:
    """A new, unpromoted ModelVersion for a completely written model directory (refused otherwise)."""
    if not is_complete(model_dir):
        raise RegistryError(f"{model_dir} is not a completely written model (no completion marker); not registered")
    with session_scope(engine) as session:
        version = ModelVersion(training_run_id=run_id, name="pending", path=str(Path(model_dir).resolve()),
                               base_model=base_model, kind=kind, toy=toy, data_manifest_hash=data_manifest_hash,
                               metrics=dict(metrics))
        session.add(version)
        session.flush()
        version.name = f"labloop-{'toy-' if toy else ''}v{version.id}"
        session.add(version)
        return version


def record_evaluation(engine: Engine, version_id: int, evaluation: dict[str, Any]) -> ModelVersion:
    with session_scope(engine) as session:
        version = session.get(ModelVersion, version_id)
        version.metrics = {**version.metrics, "eval": evaluation}
        session.add(version)
        return version


def list_versions(engine: Engine) -> list[ModelVersion]:
    with session_scope(engine) as session:
        return list(session.exec(select(ModelVersion).order_by(ModelVersion.id)))


def promoted_version(engine: Engine) -> ModelVersion | None:
    with session_scope(engine) as session:
        return session.exec(select(ModelVersion).where(ModelVersion.promoted == True)).first()  # noqa: E712


def find_version(engine: Engine, ref: str | int) -> ModelVersion:
    """A version by id (`3`) or name (`labloop-v3`); RegistryError naming the known ones otherwise."""
    with session_scope(engine) as session:
        text = str(ref).strip()
        version = session.get(ModelVersion, int(text)) if text.isdigit() else session.exec(
            select(ModelVersion).where(ModelVersion.name == text)).first()
        if version is None:
            known = ", ".join(v.name for v in session.exec(select(ModelVersion).order_by(ModelVersion.id))) or "none"
            raise RegistryError(f"no model version {text!r}; known versions: {known}")
        return version


def version_for_path(engine: Engine, model_dir: Path) -> ModelVersion | None:
    with session_scope(engine) as session:
        return session.exec(select(ModelVersion).where(ModelVersion.path == str(Path(model_dir).resolve()))).first()


def link_promoted(link: Path, version: ModelVersion) -> None:
    """Point `link` (e.g. <models>/promoted, what the compose stack's vLLM serves) at the promoted model,
    atomically: a new symlink is renamed over the old one. Relative when the model lives beside the link."""
    target = Path(version.path).resolve()
    link.parent.mkdir(parents=True, exist_ok=True)
    base = link.parent.resolve()
    pointer = target.relative_to(base) if target.is_relative_to(base) else target
    tmp = link.with_name(f".{link.name}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(pointer, target_is_directory=True)
    os.replace(tmp, link)
    log.info("%s now points at %s (%s)", link, pointer, version.name)


def promote(engine: Engine, ref: str | int, *, force: bool = False, tolerance_k: float = DEFAULT_TOLERANCE_K,
            serving_link: Path | None = None) -> tuple[ModelVersion, GateDecision]:
    """Promote a version if the gate allows it (or `force`, which still refuses an incomplete model);
    `serving_link` is re-pointed at it once the database says it is promoted."""
    candidate = find_version(engine, ref)
    if not is_complete(Path(candidate.path)):
        raise RegistryError(f"{candidate.name}: {candidate.path} is not a completely written model; refusing to promote")
    current = promoted_version(engine)
    decision = gate(candidate, current, tolerance_k=tolerance_k)
    if not decision.promote and not force:
        raise RegistryError(f"{candidate.name} not promoted: " + "; ".join(decision.reasons) + " (use --force to override)")
    with session_scope(engine) as session:
        for other in session.exec(select(ModelVersion).where(ModelVersion.promoted == True)):  # noqa: E712
            other.promoted = False
            session.add(other)
        session.flush()
        row = session.get(ModelVersion, candidate.id)
        row.promoted = True
        row.promoted_at = utcnow()
        session.add(row)
    log.info("promoted %s (%s)", candidate.name, "; ".join(decision.reasons))
    promoted = find_version(engine, candidate.id)
    if serving_link is not None:
        link_promoted(serving_link, promoted)
    return promoted, decision


def rollback(engine: Engine, *, serving_link: Path | None = None) -> tuple[ModelVersion, ModelVersion]:
    """Demote the promoted version and re-promote the one promoted before it; returns (old, restored)."""
    with session_scope(engine) as session:
        current = session.exec(select(ModelVersion).where(ModelVersion.promoted == True)).first()  # noqa: E712
        if current is None:
            raise RegistryError("no model is promoted, so there is nothing to roll back")
        previous = session.exec(
            select(ModelVersion).where(ModelVersion.id != current.id, ModelVersion.promoted_at.is_not(None))
            .order_by(ModelVersion.promoted_at.desc())
        ).first()
        if previous is None:
            raise RegistryError(f"{current.name} is the only model ever promoted; there is nothing to roll back to")
        if not is_complete(Path(previous.path)):
            raise RegistryError(f"cannot roll back to {previous.name}: its files at {previous.path} are gone or incomplete")
        current.promoted = False
        current.promoted_at = None
        session.add(current)
        session.flush()
        previous.promoted = True
        session.add(previous)
    if serving_link is not None:
        link_promoted(serving_link, previous)
    return current, previous
