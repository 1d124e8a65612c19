"""The typed configuration of one continued-pretraining job; saved, resolved, into its output directory."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any


@dataclass
class TrainConfig:
    """Continued pretraining of a local causal LM on a corpus directory (full parameters unless `lora`)."""

    corpus_dir: Path
    """Output of `labloop corpus build` (dataset/ + manifest.json)."""
    out_dir: Path
    """Where checkpoints, metrics, the resolved config and the final model/ go."""
    base_model: Path | None = None
    """A local Hugging Face causal-LM directory; None only with `tiny`."""
    tiny: bool = False
    """Build a tiny random Llama + a tokenizer trained on the corpus: a toy for CPUs, tests and the demo."""
    lora: bool = False
    """Train a LoRA adapter (peft) instead of all parameters; the source found LoRA weak for new facts."""
    lora_r: int = 64
    lora_alpha: int = 128
    epochs: float = 1.0
    """Passes over the training blocks; fractions allowed. `max_steps` wins when set."""
    max_steps: int | None = None
    lr: float = 2e-5
    """Peak learning rate (cosine decay after a linear warm-up)."""
    warmup_ratio: float = 0.03
    weight_decay: float = 0.0
    block_size: int = 2048
    """Tokens per packed training block."""
    batch_size: int = 1
    """Blocks per device per optimizer micro-step."""
    grad_accum: int = 8
    """Micro-steps per optimizer step."""
    eval_every: int = 100
    """Optimizer steps between validation-loss measurements (0: only at the end)."""
    save_every: int = 200
    """Optimizer steps between resumable checkpoints (0: none)."""
    keep_checkpoints: int = 2
    task_eval_rows: int = 0
    """When > 0, run the #Prediction task metric on this many unseen compounds at each validation."""
    seed: int = 1234
    precision: str = "auto"
    """auto (bf16 on GPU, fp32 on CPU), bf16 or fp32."""
    gradient_checkpointing: str = "auto"
    """auto (on with a GPU), on or off."""
    resume: bool = False
    """Continue from the last checkpoint in out_dir."""

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, Path):
                out[key] = str(value)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        for key in ("corpus_dir", "out_dir", "base_model"):
            if kwargs.get(key) is not None:
                kwargs[key] = Path(kwargs[key])
        return cls(**kwargs)

    def validate(self) -> None:
        """Reject impossible settings before anything is loaded."""
        if self.base_model is None and not self.tiny:
            raise ValueError("give --base-model DIR (a local Hugging Face causal-LM directory) or --tiny")
        if self.base_model is not None and self.tiny:
            raise ValueError("--tiny builds its own toy model; do not combine it with --base-model")
        if self.lr <= 0 or self.epochs <= 0 or self.block_size < 8 or self.batch_size < 1 or self.grad_accum < 1:
            raise ValueError("lr and epochs must be > 0, block size >= 8, batch size and grad accumulation >= 1")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError("max_steps must be >= 1")
        if self.precision not in {"auto", "bf16", "fp32"}:
            raise ValueError(f"precision must be auto, bf16 or fp32, not {self.precision!r}")
        if self.gradient_checkpointing not in {"auto", "on", "off"}:
            raise ValueError("gradient_checkpointing must be auto, on or off")

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2, sort_keys=True))
