"""Load a base model from a local Hugging Face directory, never from a hub, refusing anything that is not a causal LM."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from labloop.training.errors import BaseModelError

log = logging.getLogger(__name__)

# Models live on disk here; nothing may reach a hub, even by accident.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def check_base_model_dir(path: Path) -> dict[str, Any]:
    """The directory's config.json when it holds a causal LM; BaseModelError with the reason otherwise."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    path = Path(path)
    if not path.exists():
        raise BaseModelError(
            f"base model {path} does not exist. Give a local Hugging Face model directory "
            "(with config.json and weights); models are never downloaded."
        )
    if not path.is_dir():
        raise BaseModelError(f"base model {path} is not a directory; give a local Hugging Face model directory")
    config_file = path / "config.json"
    if not config_file.is_file():
        raise BaseModelError(f"{path} has no config.json, so it is not a Hugging Face model directory")
    try:
        config = json.loads(config_file.read_text())
    except (OSError, ValueError) as exc:
        raise BaseModelError(f"{config_file} is not readable JSON: {exc}") from None
    if not isinstance(config, dict):
        raise BaseModelError(f"{config_file} does not hold a JSON object")
    model_type = config.get("model_type")
    architectures = config.get("architectures") or []
    if model_type not in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        raise BaseModelError(
            f"{path} holds a {model_type or 'model of unknown type'!s} model, which is not a causal language model "
            "(e.g. Llama, Mistral, Qwen2); continued pretraining needs one"
        )
    if architectures and not any(str(a).endswith("ForCausalLM") for a in architectures):
        raise BaseModelError(
            f"{path} is a {', '.join(map(str, architectures))}, not a *ForCausalLM; continued pretraining needs a causal LM"
        )
    has_weights = any(path.glob("*.safetensors")) or any(path.glob("*.bin"))
    if not has_weights:
        raise BaseModelError(f"{path} has a config but no weights (*.safetensors or *.bin)")
    has_tokenizer = (path / "tokenizer.json").is_file() or (path / "tokenizer.model").is_file()
    if not has_tokenizer:
        raise BaseModelError(f"{path} has no tokenizer (tokenizer.json or tokenizer.model)")
    return config


def load_tokenizer(path: Path):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    if tokenizer.eos_token_id is None:
        raise BaseModelError(f"the tokenizer in {path} has no end-of-sequence token; packing needs one")
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_causal_lm(path: Path, *, dtype=None):
    """The model in `path` (already checked), loaded without any network access."""
    from transformers import AutoModelForCausalLM

    check_base_model_dir(path)
    try:
        return AutoModelForCausalLM.from_pretrained(str(path), local_files_only=True, dtype=dtype)
    except (OSError, ValueError) as exc:
        raise BaseModelError(f"cannot load the model in {path}: {exc}") from None
