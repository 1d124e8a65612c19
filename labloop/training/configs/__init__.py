"""accelerate config files for multi-GPU / multi-node training (package data)."""

from __future__ import annotations

from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent


def config_path(name: str) -> Path:
    """`fsdp` or `deepspeed` -> the shipped YAML file."""
    path = CONFIG_DIR / f"accelerate_{name}.yaml"
    if not path.is_file():
        raise ValueError(f"no accelerate config {name!r}; choose fsdp or deepspeed")
    return path
