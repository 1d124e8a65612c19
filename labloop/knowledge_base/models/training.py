"""What training produced: corpus builds, training runs and model versions (the registry)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from labloop.knowledge_base.types import json_field, utc_field


class CorpusBuild(SQLModel, table=True):
    """One `labloop corpus build`: its output directory, config and manifest (counts, exposure, rejections, hashes)."""

    id: int | None = Field(default=None, primary_key=True)
    out_dir: str
    status: str = Field(default="running", description="running, complete, failed")
    generator_model: str = ""
    config: dict[str, Any] = json_field()
    manifest: dict[str, Any] = json_field()
    manifest_hash: str = ""
    created_at: datetime = utc_field(default_now=True)
    finished_at: datetime | None = utc_field(nullable=True)


class TrainingRun(SQLModel, table=True):
    """One `labloop train`: base model, corpus, config, status and metrics."""

    id: int | None = Field(default=None, primary_key=True)
    corpus_build_id: int | None = Field(default=None, foreign_key="corpusbuild.id")
    base_model: str
    out_dir: str
    toy: bool = Field(default=False, description="True for the tiny CPU model: a toy, labelled as such everywhere")
    status: str = Field(default="running", description="running, complete, failed")
    config: dict[str, Any] = json_field()
    metrics: dict[str, Any] = json_field()
    started_at: datetime = utc_field(default_now=True)
    finished_at: datetime | None = utc_field(nullable=True)


class ModelVersion(SQLModel, table=True):
    """A trained model in the registry. At most one is promoted at a time; serving uses the promoted one."""

    id: int | None = Field(default=None, primary_key=True)
    training_run_id: int | None = Field(default=None, foreign_key="trainingrun.id")
    name: str = Field(index=True)
    path: str
    base_model: str
    kind: str = Field(default="full", description="full or lora")
    toy: bool = False
    data_manifest_hash: str = ""
    metrics: dict[str, Any] = json_field()
    promoted: bool = Field(default=False, index=True)
    promoted_at: datetime | None = utc_field(nullable=True)
    created_at: datetime = utc_field(default_now=True)
