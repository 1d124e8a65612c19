"""The continued-pretraining loop: transformers + accelerate, packing, periodic validation, resumable checkpoints.

Runs unchanged on one CPU (tests, the tiny toy), one GPU, or many through `accelerate launch` with the FSDP or
DeepSpeed configs in `labloop/training/configs/`.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labloop.training.corpus_input import CorpusInput, open_corpus
from labloop.training.errors import TrainingError
from labloop.training.pretrain.base_model import check_base_model_dir, load_causal_lm, load_tokenizer
from labloop.training.pretrain.checkpoint import (
    TrainerState,
    finalize_model,
    is_complete,
    latest_checkpoint,
    load_checkpoint,
    read_model_card,
    save_checkpoint,
)
from labloop.training.pretrain.config import TrainConfig
from labloop.training.pretrain.packing import pack_texts
from labloop.training.tiny import build_tiny_base, is_toy

log = logging.getLogger(__name__)

MAX_VAL_BLOCKS = 256
StepCallback = Callable[[int, int, float], None]


@dataclass
class TrainResult:
    """What a finished training job left behind."""

    out_dir: Path
    model_dir: Path
    base_model: Path
    kind: str
    toy: bool
    corpus: CorpusInput
    metrics: dict[str, Any] = field(default_factory=dict)


def _resolve_base(config: TrainConfig, corpus_texts) -> Path:
    if not config.tiny:
        check_base_model_dir(config.base_model)
        return Path(config.base_model)
    base = config.out_dir / "tiny-base"
    if not (base / "config.json").is_file():
        build_tiny_base(corpus_texts, base, seed=config.seed, max_positions=max(1024, config.block_size))
    return base


def _prepare_out_dir(config: TrainConfig) -> None:
    out = config.out_dir
    if out.exists() and any(out.iterdir()) and not config.resume:
        raise TrainingError(
            f"{out} already holds a training run; pass --resume to continue it, or choose a new --out directory"
        )
    out.mkdir(parents=True, exist_ok=True)


def _precision(config: TrainConfig, has_gpu: bool) -> tuple[str, bool]:
    bf16 = config.precision == "bf16" or (config.precision == "auto" and has_gpu)
    checkpointing = config.gradient_checkpointing == "on" or (config.gradient_checkpointing == "auto" and has_gpu)
    return ("bf16" if bf16 else "no"), checkpointing


def _validation_loss(model, accelerator, blocks) -> float | None:
    import torch

    if blocks is None or len(blocks) == 0:
        return None
    model.eval()
    losses = []
    with torch.no_grad():
        for start in range(accelerator.process_index, len(blocks), accelerator.num_processes):
            ids = torch.as_tensor(blocks[start : start + 1], device=accelerator.device)
            losses.append(model(input_ids=ids, labels=ids).loss.float().reshape(1))
    model.train()
    local = torch.cat(losses) if losses else torch.zeros(0, device=accelerator.device)
    gathered = accelerator.gather_for_metrics(local)
    return float(gathered.mean()) if gathered.numel() else None


def train(
    config: TrainConfig, *, on_step: StepCallback | None = None, on_validation: Callable[[Any, Any, int], dict] | None = None
) -> TrainResult:
    """Train, checkpoint, validate and save `config.out_dir/model` atomically. `on_step(step, total, loss)` is
    called after each optimizer step; `on_validation(model, tokenizer, step)` may add task metrics."""
    import numpy as np
    import torch
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from torch.utils.data import DataLoader, TensorDataset
    from transformers import get_cosine_schedule_with_warmup
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    config.validate()
    corpus = open_corpus(config.corpus_dir)
    if config.resume and is_complete(config.out_dir / "model"):
        card = read_model_card(config.out_dir / "model")
        log.info("%s is already complete; nothing to resume", config.out_dir)
        return TrainResult(config.out_dir, config.out_dir / "model", Path(card["base_model"]), card["kind"],
                           card["toy"], corpus, card.get("metrics", {}))
    _prepare_out_dir(config)
    data = corpus.load_dataset()
    base = _resolve_base(config, data["train"]["text"])
    toy = is_toy(base)
    accelerator = Accelerator(
        mixed_precision=_precision(config, torch.cuda.is_available())[0], gradient_accumulation_steps=config.grad_accum
    )
    _, checkpointing = _precision(config, torch.cuda.is_available())
    set_seed(config.seed)

    tokenizer = load_tokenizer(base)
    train_blocks = pack_texts(data["train"]["text"], tokenizer, config.block_size)
    if len(train_blocks) == 0:
        raise TrainingError(f"the corpus {config.corpus_dir} has no training text")
    val_blocks = pack_texts(data["validation"]["text"], tokenizer, config.block_size) if "validation" in data else None
    if val_blocks is not None:
        val_blocks = val_blocks[:MAX_VAL_BLOCKS]

    model = load_causal_lm(base)
    if checkpointing:
        model.gradient_checkpointing_enable()
        model.config.use_cache = False
    kind = "lora" if config.lora else "full"
    if config.lora:
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(
            model, LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, target_modules="all-linear", task_type="CAUSAL_LM")
        )
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=config.lr, weight_decay=config.weight_decay
    )
    per_step = config.batch_size * config.grad_accum * accelerator.num_processes
    micro_per_epoch = math.ceil(len(train_blocks) / (config.batch_size * accelerator.num_processes))
    steps_per_epoch = max(1, math.ceil(micro_per_epoch / config.grad_accum))
    total_steps = config.max_steps or max(1, math.ceil(config.epochs * len(train_blocks) / per_step))
    scheduler = get_cosine_schedule_with_warmup(optimizer, int(config.warmup_ratio * total_steps), total_steps)
    model, optimizer, scheduler = accelerator.prepare(model, optimizer, scheduler)

    state = TrainerState()
    checkpoint = latest_checkpoint(config.out_dir) if config.resume else None
    if checkpoint is not None:
        state = load_checkpoint(accelerator, checkpoint)
    elif accelerator.is_main_process:
        config.save(config.out_dir / "train_config.json")
        (config.out_dir / "data_manifest.json").write_text(
            json.dumps({"corpus_dir": str(corpus.path), "manifest_hash": corpus.manifest_hash,
                        "corpus_build_id": corpus.corpus_build_id}, indent=2)
        )
    metrics_file = config.out_dir / "metrics.jsonl"
    if checkpoint is None and metrics_file.exists():
        metrics_file.unlink()

    history: list[dict[str, Any]] = []

    def record(entry: dict[str, Any]) -> None:
        history.append(entry)
        if accelerator.is_main_process:
            with metrics_file.open("a") as handle:
                handle.write(json.dumps(entry) + "\n")

    def validate(step: int) -> None:
        entry: dict[str, Any] = {"step": step, "val_loss": _validation_loss(model, accelerator, val_blocks)}
        if on_validation is not None and accelerator.is_main_process:
            entry.update(on_validation(accelerator.unwrap_model(model), tokenizer, step))
        record(entry)
        log.info("step %d: validation loss %s", step, entry["val_loss"])

    started = time.perf_counter()
    start_tokens = state.tokens
    if state.step == 0:
        validate(0)
    model.train()
    running_loss = 0.0
    while state.step < total_steps:
        order = np.random.default_rng(config.seed + state.epoch).permutation(len(train_blocks))
        loader = accelerator.prepare(
            DataLoader(TensorDataset(torch.as_tensor(train_blocks[order])), batch_size=config.batch_size)
        )
        batches = accelerator.skip_first_batches(loader, state.micro_in_epoch) if state.micro_in_epoch else loader
        micro = state.micro_in_epoch
        for (ids,) in batches:
            with accelerator.accumulate(model):
                loss = model(input_ids=ids, labels=ids).loss
                accelerator.backward(loss)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            micro += 1
            running_loss += float(loss.detach()) / config.grad_accum
            state.tokens += ids.numel() * accelerator.num_processes
            if not accelerator.sync_gradients:
                continue
            state.step += 1
            state.micro_in_epoch = micro
            record({"step": state.step, "epoch": state.epoch, "loss": running_loss,
                    "lr": scheduler.get_last_lr()[0], "tokens": state.tokens})
            if on_step is not None:
                on_step(state.step, total_steps, running_loss)
            running_loss = 0.0
            if config.eval_every and state.step % config.eval_every == 0 and state.step < total_steps:
                validate(state.step)
            if config.save_every and state.step % config.save_every == 0 and state.step < total_steps:
                save_checkpoint(accelerator, config.out_dir, state, keep=config.keep_checkpoints)
            if state.step >= total_steps:
                break
        if state.step < total_steps:
            state.epoch += 1
            state.micro_in_epoch = 0
    validate(state.step)
    wall = time.perf_counter() - started
    metrics = _summary(history, config.out_dir / "metrics.jsonl", state, wall, state.tokens - start_tokens,
                       steps_per_epoch)
    accelerator.wait_for_everyone()
    model_dir = config.out_dir / "model"
    unwrapped = accelerator.unwrap_model(model)
    # Collective under FSDP/DeepSpeed: every process takes part in gathering the full weights.
    full_state = None if config.lora else accelerator.get_state_dict(model)
    if accelerator.is_main_process:
        card = {"base_model": str(base), "kind": kind, "toy": toy, "config": config.to_json(),
                "data_manifest_hash": corpus.manifest_hash, "corpus_build_id": corpus.corpus_build_id,
                "metrics": metrics}

        def write_files(tmp: Path) -> None:
            if full_state is None:
                unwrapped.save_pretrained(str(tmp))
            else:
                unwrapped.save_pretrained(str(tmp), state_dict=full_state)
            tokenizer.save_pretrained(str(tmp))
            if toy and kind == "full":
                from labloop.training.tiny import mark_toy

                mark_toy(tmp)

        finalize_model(config.out_dir, write_files, card)
        shutil.rmtree(config.out_dir / "checkpoints", ignore_errors=True)
    accelerator.wait_for_everyone()
    return TrainResult(config.out_dir, model_dir, base, kind, toy, corpus, metrics)


def _summary(history, metrics_file: Path, state: TrainerState, wall: float, tokens: int, steps_per_epoch: int) -> dict:
    """First/last training and validation loss over the whole run (read back from metrics.jsonl after a resume)."""
    entries = history
    if metrics_file.is_file():
        entries = [json.loads(line) for line in metrics_file.read_text().splitlines() if line.strip()]
    train_losses = [e["loss"] for e in entries if "loss" in e]
    val_losses = [e["val_loss"] for e in entries if e.get("val_loss") is not None]
    return {
        "steps": state.step,
        "epochs": round(state.step / steps_per_epoch, 3),
        "tokens": state.tokens,
        "train_loss_first": train_losses[0] if train_losses else None,
        "train_loss_last": train_losses[-1] if train_losses else None,
        "val_loss_first": val_losses[0] if val_losses else None,
        "val_loss_last": val_losses[-1] if val_losses else None,
        "wall_s": round(wall, 3),
        "tokens_per_s": round(tokens / wall, 1) if wall > 0 else None,
    }
