"""What every page shares: settings, the engine (one per process, in st.cache_resource), sessions, frame
files, run pickers and friendly handling of a busy or missing database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from labloop.config import Settings, get_settings
from labloop.knowledge_base import queries as q
from labloop.knowledge_base.db import get_engine, session_scope
from labloop.knowledge_base.frame_store import FrameStore
from labloop.knowledge_base.models import Frame


def settings() -> Settings:
    return get_settings()


@st.cache_resource(show_spinner=False)
def _engine(url: str) -> Engine:
    return get_engine(settings())


def engine() -> Engine:
    return _engine(settings().effective_database_url)


@contextmanager
def reading() -> Iterator[Session]:
    with Session(engine(), expire_on_commit=False) as session:
        yield session


@contextmanager
def writing() -> Iterator[Session]:
    """A write that commits; a database kept busy by another writer becomes a message, not a traceback."""
    try:
        with session_scope(engine()) as session:
            yield session
    except OperationalError as exc:
        if "locked" in str(exc.orig) or "busy" in str(exc.orig):
            st.error("The database is busy (an observer is writing); nothing was saved. Please try again.")
            st.stop()
        raise


def frame_path(frame: Frame) -> Path | None:
    try:
        path = FrameStore(settings().frames_dir).path_for(frame.path)
    except ValueError:
        return None
    return path if path.is_file() else None


def show_frame(frame: Frame, caption: str, width: int | str = "stretch") -> None:
    path = frame_path(frame)
    if path is None:
        st.warning(f"frame:{frame.id}: file {frame.path} is missing from {settings().frames_dir}")
    else:
        st.image(str(path), caption=caption, width=width)


def run_label(r: q.RunSummary | object) -> str:
    run = r.run if isinstance(r, q.RunSummary) else r
    return f"run {run.id} · {run.name or run.operator} · {run.status} · {run.started_at:%Y-%m-%d %H:%M}"


def pick_run(runs: list[q.RunSummary], key: str, *, label: str = "Run", param: str = "run") -> int | None:
    """A run selector that starts from ?run=<id> when given; shows why when there are no runs."""
    if not runs:
        st.info("No runs recorded yet. Start one with `labloop acquire`, or fill a demo database with `labloop demo`.")
        return None
    ids = [r.run.id for r in runs]
    wanted = st.query_params.get(param)
    index = ids.index(int(wanted)) if wanted and wanted.isdigit() and int(wanted) in ids else 0
    labels = {r.run.id: run_label(r) for r in runs}
    chosen = st.selectbox(label, ids, index=index, format_func=labels.get, key=key)
    if chosen is not None:
        st.query_params[param] = str(chosen)
    return chosen


LOCAL_IMAGE_RE = re.compile(r"!\[([^\]]*)\]\(([^)/:]+)\)")


def show_note_body(body: str, figure_paths: list[str]) -> None:
    """A note's Markdown; its figures (files beside the note, listed in the revision) shown as images."""
    st.markdown(LOCAL_IMAGE_RE.sub("", body))
    figures = {Path(p).name: Path(p) for p in figure_paths}
    for alt, name in LOCAL_IMAGE_RE.findall(body):
        path = figures.get(name)
        if path is not None and path.is_file():
            st.image(str(path), caption=alt)


def provenance(source: str, model: str | None, author: str = "") -> str:
    """A short honest label: who or what wrote a text or score."""
    if source == "llm":
        return f"written by the model {model or '(unknown model)'}"
    if source == "template":
        return "machine-generated from measurements (no model)"
    if source == "cv":
        return "computed by CV (no model)"
    return f"written by {author or 'a person'}"


def show_frame_scores(view: q.FrameView, *, with_haze: bool = False, label_word: str = "human label") -> None:
    """What was concluded about one frame: the CV score (no model), the vision model's score and note with its
    provenance, and the chemists' labels."""
    o = view.observation
    if o is not None:
        st.write(f"CV score {o.cv_score} (computed, no model)" + (f" · haze {o.haze}" if with_haze else ""))
        if o.llm_score is not None:
            st.write(f"LLM score {o.llm_score}: {o.llm_note or ''} ({provenance('llm', o.model)})")
    for lab in view.labels:
        st.write(f"{label_word} {lab.score} by {lab.author}")
