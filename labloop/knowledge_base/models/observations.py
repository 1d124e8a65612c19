"""What labloop concluded about runs: observations per frame, human labels, observer events, notes and reflections."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from labloop.knowledge_base.types import json_field, utc_field


class ProvenanceMixin(SQLModel):
    """Who or what produced a record. `source` is one of: cv, llm, template, human."""

    source: str = Field(default="cv", description="cv (computed, no model), llm, template (no model), human")
    model: str | None = None
    endpoint: str | None = None
    prompt_hash: str | None = None
    input_hashes: list[str] = json_field(list)
    latency_ms: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class Observation(ProvenanceMixin, table=True):
    """Exactly one per frame: the CV haze and score, and (when asked) the vision LLM's score and note."""

    __table_args__ = (UniqueConstraint("frame_id", name="uq_observation_frame"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    frame_id: int = Field(foreign_key="frame.id")
    ts: datetime = utc_field(default_now=True)
    haze: float | None = None
    cv_score: float | None = None
    llm_score: float | None = None
    llm_confidence: float | None = None
    llm_note: str | None = None
    llm_events: list[str] = json_field(list)
    llm_status: str = Field(default="skipped", description="skipped, ok, failed (see llm_error), pending")
    llm_error: str | None = None
    quality: str = Field(default="ok", description="ok, or why the frame could not be measured (black, overexposed, ...)")
    created_at: datetime = utc_field(default_now=True)


class HumanLabel(SQLModel, table=True):
    """A chemist's own 0-5 turbidity score for a frame; labels calibrate the CV score."""

    id: int | None = Field(default=None, primary_key=True)
    frame_id: int = Field(foreign_key="frame.id", index=True)
    score: float
    author: str
    comment: str = ""
    created_at: datetime = utc_field(default_now=True)


class ObserverEvent(SQLModel, table=True):
    """Something the observer noticed: turbidity onset, sudden change, CV/LLM disagreement, camera gap."""

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    frame_id: int | None = Field(default=None, foreign_key="frame.id")
    ts: datetime = utc_field(default_now=True)
    kind: str
    message: str
    details: dict[str, Any] = json_field()
    alerted: bool = False


class NoteKind(StrEnum):
    lab_note = "lab_note"
    reflection = "reflection"


class Note(SQLModel, table=True):
    """A lab note on a run, or a reflection comparing runs. Its text lives in append-only revisions."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default=NoteKind.lab_note, index=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    compared_run_ids: list[int] = json_field(list)
    title: str = ""
    created_at: datetime = utc_field(default_now=True)


class NoteRevision(ProvenanceMixin, table=True):
    """One version of a note's text. An edit is a new revision with its author; nothing is overwritten."""

    __table_args__ = (UniqueConstraint("note_id", "revision", name="uq_noterevision_note_revision"),)

    id: int | None = Field(default=None, primary_key=True)
    note_id: int = Field(foreign_key="note.id", index=True)
    revision: int
    body: str
    author: str
    figure_paths: list[str] = json_field(list)
    created_at: datetime = utc_field(default_now=True)
