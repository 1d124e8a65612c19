"""Resumable checkpoints and the atomic final save: a model directory exists only once it is complete."""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

COMPLETE_MARKER = "LABLOOP_COMPLETE.json"
CHECKPOINTS = "checkpoints"
STATE_FILE = "trainer_state.json"


@dataclass
class TrainerState:
    """Where training stands: optimizer steps done, the epoch and the micro-batches consumed in it."""

    step: int = 0
    epoch: int = 0
    micro_in_epoch: int = 0
    tokens: int = 0


def _step_dirs(out_dir: Path) -> list[Path]:
    root = out_dir / CHECKPOINTS
    if not root.is_dir():
        return []
    done = [p for p in root.iterdir() if p.is_dir() and p.name.startswith("step-") and (p / STATE_FILE).is_file()]
    return sorted(done, key=lambda p: int(p.name.split("-")[1]))


def latest_checkpoint(out_dir: Path) -> Path | None:
    dirs = _step_dirs(out_dir)
    return dirs[-1] if dirs else None


def save_checkpoint(accelerator, out_dir: Path, state: TrainerState, *, keep: int) -> Path:
    """accelerate's full state (model, optimizer, scheduler, RNG) under checkpoints/step-N, written then renamed."""
    root = out_dir / CHECKPOINTS
    final = root / f"step-{state.step:07d}"
    partial = root / f".step-{state.step:07d}.partial"
    if accelerator.is_main_process:
        shutil.rmtree(partial, ignore_errors=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(partial))
    if accelerator.is_main_process:
        (partial / STATE_FILE).write_text(json.dumps(asdict(state)))
        shutil.rmtree(final, ignore_errors=True)
        os.replace(partial, final)
        for old in _step_dirs(out_dir)[:-keep] if keep > 0 else []:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
    log.info("checkpoint saved at step %d: %s", state.step, final)
    return final


def load_checkpoint(accelerator, path: Path) -> TrainerState:
    accelerator.load_state(str(path))
    state = TrainerState(**json.loads((path / STATE_FILE).read_text()))
    log.info("resumed from %s (step %d)", path, state.step)
    return state


def is_complete(model_dir: Path) -> bool:
    """True only for a model directory whose final save finished (the marker is written last, then renamed)."""
    return (Path(model_dir) / COMPLETE_MARKER).is_file()


def read_model_card(model_dir: Path) -> dict[str, Any]:
    return json.loads((Path(model_dir) / COMPLETE_MARKER).read_text())


def finalize_model(out_dir: Path, write_files, card: dict[str, Any]) -> Path:
    """Write the model into a temporary directory with `write_files(tmp)`, add the completion marker last,
    then rename it to out_dir/model. A crash at any point leaves no out_dir/model behind."""
    final = out_dir / "model"
    partial = out_dir / f".model.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    write_files(partial)
    marker = partial / COMPLETE_MARKER
    with marker.open("w") as handle:
        json.dump(card, handle, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    if final.exists():
        shutil.rmtree(final)
    os.replace(partial, final)
    return final
