"""Experiments, runs and what devices recorded during a run (events, gaps, frames), plus measured results."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from labloop.knowledge_base.types import json_field, utc_field


class RunStatus(StrEnum):
    running = "running"
    success = "success"
    aborted = "aborted"
    failed = "failed"


class Experiment(SQLModel, table=True):
    """What the chemist set out to do: a goal and the setup text, shared by several runs."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    goal: str = ""
    setup: str = Field(default="", description="The chemist's own description of reagents, amounts and procedure.")
    created_by: str = ""
    created_at: datetime = utc_field(default_now=True)


class Run(SQLModel, table=True):
    """One execution of an experiment, by the robot or by a human, from start to exit status."""

    id: int | None = Field(default=None, primary_key=True)
    experiment_id: int | None = Field(default=None, foreign_key="experiment.id", index=True)
    name: str = ""
    operator: str = Field(default="robot", description="robot or human")
    parameters: dict[str, Any] = json_field()
    config_snapshot: dict[str, Any] = json_field()
    started_at: datetime = utc_field(default_now=True, index=True)
    stopped_at: datetime | None = utc_field(nullable=True)
    status: str = Field(default=RunStatus.running, index=True)
    exit_reason: str = ""
    host: str = ""
    pid: int | None = None
    heartbeat_at: datetime | None = utc_field(nullable=True)


class DeviceEvent(SQLModel, table=True):
    """One line sent to or received from a device, or a device-level happening, with its time."""

    __table_args__ = (Index("ix_deviceevent_run_ts", "run_id", "ts"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id")
    seq: int = 0
    ts: datetime = utc_field(default_now=True)
    device: str = Field(description="robot, camera, ...")
    direction: str = Field(description="tx (sent), rx (received) or info")
    kind: str = Field(default="line", description="line, ok, echo, busy, resend, error, dispense, connect, ...")
    payload: str = ""


class Gap(SQLModel, table=True):
    """An interval in which a device delivered nothing (disconnect, no frame); gaps are data, not lost time."""

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    device: str
    started_at: datetime = utc_field(default_now=True)
    ended_at: datetime | None = utc_field(nullable=True)
    reason: str = ""


class Frame(SQLModel, table=True):
    """A camera frame stored content-addressed in the frame store; `path` is relative to the store root."""

    __table_args__ = (UniqueConstraint("run_id", "seq", name="uq_frame_run_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    seq: int
    ts: datetime = utc_field(default_now=True, index=True)
    camera: str = ""
    path: str
    sha256: str = Field(index=True)
    size_bytes: int = 0
    width: int = 0
    height: int = 0


class Result(SQLModel, table=True):
    """A measured outcome of a run, e.g. particle diameter by SEM."""

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    quantity: str
    value: float
    unit: str = ""
    method: str = ""
    author: str = ""
    created_at: datetime = utc_field(default_now=True)
