"""Property predictions for the chat: the promoted model (through the served endpoint or in-process) and the
random-forest baseline, each labelled with what produced it. Without a promoted model, the baseline says so."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from labloop.config import Settings, get_settings
from labloop.knowledge_base.chem import canonicalize
from labloop.knowledge_base.types import utcnow
from labloop.training.errors import RegistryError, TrainingError
from labloop.training.evaluate import EndpointBackend, EvalPrompt, InProcessBackend, extract_prediction
from labloop.training.registry import promoted_version
from labloop.training.serve import PROMOTED_ALIAS

log = logging.getLogger(__name__)

SUPPORTED = {"melting_point": "melting point"}
UNIT = "degC"


class PredictionUnavailable(TrainingError):
    """Neither a promoted model nor a baseline can answer; the message says what to train."""


@dataclass(frozen=True)
class Prediction:
    """One predicted value and exactly what produced it."""

    value: float
    unit: str
    label: str
    model_version_id: int | None
    toy: bool
    provenance: dict[str, Any] = field(default_factory=dict)


def baseline_dir(settings: Settings) -> Path:
    """Where `labloop baseline train` puts the baseline the chat uses."""
    return settings.models_dir / "baseline"


@lru_cache(maxsize=2)
def _in_process(path: str) -> InProcessBackend:
    return InProcessBackend(Path(path), max_new_tokens=96, batch_size=1)


@lru_cache(maxsize=2)
def _baseline(path: str, mtime: float):
    from labloop.training.baseline import load_baseline

    return load_baseline(Path(path))


def _model_prediction(version, name: str, smiles: str, prompt: EvalPrompt, settings: Settings) -> tuple[
        Prediction | None, str]:
    """The promoted model's answer, or None and the reason it gave none."""
    served = settings.llm_configured and settings.llm_model in {version.name, PROMOTED_ALIAS}
    if served:
        backend = EndpointBackend(settings, base_url=settings.llm_base_url, model=settings.llm_model, concurrency=1,
                                  max_tokens=256)
    else:
        backend = _in_process(version.path)
    answer = backend.generate([prompt.render(name=name, smiles=smiles)])[0]
    provenance = {"model": version.name, "path": version.path, "base_model": version.base_model,
                  "endpoint": settings.llm_base_url if served else "in-process (transformers)",
                  "prompt_hash": prompt.template_hash, "raw_answer": answer.text, "latency_s": round(answer.latency_s, 3),
                  "computed_at": utcnow().isoformat()}
    if answer.text is None:
        return None, f"the promoted model {version.name} did not answer ({answer.error})"
    found = extract_prediction(answer.text, unit=prompt.unit)
    if found.value is None:
        return None, f"the promoted model {version.name} gave no usable #Prediction ({found.outcome})"
    label = f"{version.name} (continued-pretrained language model)"
    if version.toy:
        label = f"{version.name} (TOY model trained on a tiny CPU corpus; not a real prediction)"
    provenance["outcome"] = found.outcome
    return Prediction(found.value, prompt.unit, label, version.id, version.toy, provenance), ""


def predict_property(engine: Engine, smiles: str, property: str = "melting_point", *,
                     settings: Settings | None = None, name: str | None = None) -> list[Prediction]:
    """Predictions of `property` for a structure: the promoted model's (when there is one and it answers) and the
    baseline's. Raises InvalidSmiles for a bad structure, PredictionUnavailable when nothing can answer."""
    if property not in SUPPORTED:
        raise PredictionUnavailable(f"no predictor for {property!r}; supported: {', '.join(SUPPORTED)}")
    settings = settings or get_settings()
    structure = canonicalize(smiles)
    prompt = EvalPrompt(property_name=SUPPORTED[property], unit=UNIT)
    out: list[Prediction] = []
    version = promoted_version(engine)
    why_baseline = "no trained model is promoted"
    if version is not None:
        try:
            prediction, why_baseline = _model_prediction(version, name or structure.smiles, structure.smiles,
                                                         prompt, settings)
        except (TrainingError, OSError) as exc:
            prediction, why_baseline = None, f"the promoted model {version.name} could not be run: {exc}"
        if prediction is not None:
            out.append(prediction)
            why_baseline = "shown for comparison with the promoted model"
    path = baseline_dir(settings)
    try:
        baseline = _baseline(str(path), (path / "baseline.json").stat().st_mtime)
    except (FileNotFoundError, RegistryError):
        baseline = None
    if baseline is not None and baseline.card.get("property", "melting_point") == property:
        value = baseline.predict([structure.smiles])[0]
        if value is not None:
            out.append(Prediction(
                value, UNIT, f"baseline: {baseline.card['label']}", None, False,
                {"method": baseline.card["label"], "baseline_dir": str(path), "why": why_baseline,
                 "trained_on_this_compound": structure.inchikey in baseline.trained_keys,
                 "n_train": baseline.card["n_train"],
                 "held_out_mae_k": (baseline.card.get("test_metrics") or {}).get("mae_k"),
                 "computed_at": utcnow().isoformat()},
            ))
    if not out:
        raise PredictionUnavailable(
            f"cannot predict the {SUPPORTED[property]}: {why_baseline}, and no baseline is trained at {path}. "
            "Run `labloop baseline train` (or `labloop retrain`)."
        )
    return out
