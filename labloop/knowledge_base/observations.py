"""Reading and writing what the observer concluded: observations (one per frame), human labels, observer
events, and notes whose text lives in append-only revisions. Keyword-only functions that take a session."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from labloop.knowledge_base.models import Frame, HumanLabel, Note, NoteRevision, Observation, ObserverEvent
from labloop.knowledge_base.models.observations import NoteKind

LLM_FIELDS = ("llm_score", "llm_confidence", "llm_note", "llm_events", "llm_status", "llm_error")


class LabelError(ValueError):
    """A human label that cannot be stored (score out of range, unknown frame, no author)."""


@dataclass(frozen=True)
class Provenance:
    """Who or what produced a record; maps onto ProvenanceMixin's columns."""

    source: str = "cv"
    model: str | None = None
    endpoint: str | None = None
    prompt_hash: str | None = None
    input_hashes: list[str] = field(default_factory=list)
    latency_ms: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None

    def fields(self) -> dict[str, Any]:
        return asdict(self)


# --- observations -------------------------------------------------------------------------------------------


def observation_for_frame(session: Session, frame_id: int) -> Observation | None:
    return session.exec(select(Observation).where(Observation.frame_id == frame_id)).first()


def record_observation(session: Session, *, run_id: int, frame_id: int, **values: Any) -> tuple[Observation, bool]:
    """Insert the frame's observation unless it exists (a resumed observer repeats the step); returns
    (observation, created). The unique constraint on frame_id settles races between processes."""
    existing = observation_for_frame(session, frame_id)
    if existing is not None:
        return existing, False
    observation = Observation(run_id=run_id, frame_id=frame_id, **values)
    try:
        with session.begin_nested():
            session.add(observation)
    except IntegrityError:
        session.expunge(observation)
        return observation_for_frame(session, frame_id), False
    return observation, True


def update_llm_result(session: Session, observation_id: int, *, provenance: Provenance, **llm: Any) -> None:
    """Fill in (or re-record) the vision model's answer of an observation, e.g. by `observe --backfill`."""
    unknown = set(llm) - set(LLM_FIELDS)
    if unknown:
        raise ValueError(f"not LLM fields of an observation: {sorted(unknown)}")
    session.execute(update(Observation).where(Observation.id == observation_id).values(**llm, **provenance.fields()))


def observations_for_run(session: Session, run_id: int) -> list[tuple[Observation, Frame]]:
    """The run's observations with their frames, in frame order."""
    rows = session.exec(
        select(Observation, Frame).join(Frame, Frame.id == Observation.frame_id)
        .where(Observation.run_id == run_id).order_by(Frame.seq)
    ).all()
    return [(obs, frame) for obs, frame in rows]


def failed_llm_observations(session: Session, run_id: int) -> list[tuple[Observation, Frame]]:
    return [(o, f) for o, f in observations_for_run(session, run_id) if o.llm_status in ("failed", "pending")]


def frames_after(session: Session, run_id: int, seq: int, *, limit: int = 1) -> list[Frame]:
    """The run's frames with a sequence number above `seq`, oldest first."""
    return list(
        session.exec(select(Frame).where(Frame.run_id == run_id, Frame.seq > seq).order_by(Frame.seq).limit(limit))
    )


# --- human labels -------------------------------------------------------------------------------------------


def add_human_label(session: Session, *, frame_id: int, score: float, author: str, comment: str = "") -> HumanLabel:
    """Store a chemist's 0-5 turbidity score for a frame (validated; labels are never overwritten)."""
    if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= float(score) <= 5:
        raise LabelError(f"a turbidity label must be a number from 0 (clear) to 5 (opaque), got {score!r}")
    if not author.strip():
        raise LabelError("a label needs its author's name")
    if session.get(Frame, frame_id) is None:
        raise LabelError(f"frame {frame_id} does not exist")
    label = HumanLabel(frame_id=frame_id, score=float(score), author=author.strip(), comment=comment)
    session.add(label)
    session.flush()
    return label


def human_scores_for_run(session: Session, run_id: int) -> dict[int, float]:
    """frame id -> the latest human score, for the run's labelled frames."""
    rows = session.exec(
        select(HumanLabel).join(Frame, Frame.id == HumanLabel.frame_id)
        .where(Frame.run_id == run_id).order_by(HumanLabel.created_at, HumanLabel.id)
    ).all()
    return {label.frame_id: label.score for label in rows}


def labelled_haze_pairs(session: Session) -> list[tuple[float, float]]:
    """(CV haze, human score) for every labelled frame that has a measured observation: calibration input."""
    rows = session.exec(
        select(Observation.haze, HumanLabel.score).join(HumanLabel, HumanLabel.frame_id == Observation.frame_id)
        .where(Observation.haze.is_not(None))
    ).all()
    return [(float(h), float(s)) for h, s in rows]


# --- observer events ----------------------------------------------------------------------------------------


def record_event(
    session: Session, *, run_id: int, kind: str, message: str, frame_id: int | None = None,
    details: dict[str, Any] | None = None, ts: Any = None,
) -> tuple[ObserverEvent, bool]:
    """Record an event once per (run, frame, kind): a resumed observer does not repeat its alerts."""
    query = select(ObserverEvent).where(ObserverEvent.run_id == run_id, ObserverEvent.kind == kind)
    query = query.where(ObserverEvent.frame_id == frame_id if frame_id is not None else ObserverEvent.frame_id.is_(None))
    existing = session.exec(query).first()
    if existing is not None:
        return existing, False
    event = ObserverEvent(run_id=run_id, frame_id=frame_id, kind=kind, message=message, details=details or {})
    if ts is not None:
        event.ts = ts
    session.add(event)
    session.flush()
    return event, True


def mark_alerted(session: Session, event_ids: Sequence[int]) -> None:
    if event_ids:
        session.execute(update(ObserverEvent).where(ObserverEvent.id.in_(list(event_ids))).values(alerted=True))


def events_for_run(session: Session, run_id: int, kind: str | None = None) -> list[ObserverEvent]:
    query = select(ObserverEvent).where(ObserverEvent.run_id == run_id)
    if kind:
        query = query.where(ObserverEvent.kind == kind)
    return list(session.exec(query.order_by(ObserverEvent.ts, ObserverEvent.id)))


# --- notes and reflections (append-only revisions) ----------------------------------------------------------


def create_note(
    session: Session, *, kind: NoteKind | str, run_id: int, title: str, body: str, author: str,
    provenance: Provenance, figure_paths: Sequence[str] = (), compared_run_ids: Sequence[int] = (),
) -> tuple[Note, NoteRevision]:
    """A new note (or reflection) with its first revision."""
    note = Note(kind=NoteKind(kind), run_id=run_id, title=title, compared_run_ids=list(compared_run_ids))
    session.add(note)
    session.flush()
    revision = _append(session, note.id, 1, body, author, provenance, figure_paths)
    return note, revision


def add_revision(
    session: Session, *, note_id: int, body: str, author: str, provenance: Provenance | None = None,
    figure_paths: Sequence[str] | None = None,
) -> NoteRevision:
    """An edit: a new revision numbered after the latest; earlier revisions stay untouched."""
    latest = latest_revision(session, note_id)
    if latest is None:
        raise LookupError(f"note {note_id} does not exist")
    figures = latest.figure_paths if figure_paths is None else figure_paths
    return _append(session, note_id, latest.revision + 1, body, author, provenance or Provenance(source="human"), figures)


def _append(
    session: Session, note_id: int, number: int, body: str, author: str, provenance: Provenance,
    figure_paths: Sequence[str],
) -> NoteRevision:
    revision = NoteRevision(note_id=note_id, revision=number, body=body, author=author,
                            figure_paths=list(figure_paths), **provenance.fields())
    session.add(revision)
    session.flush()
    return revision


def latest_revision(session: Session, note_id: int) -> NoteRevision | None:
    return session.exec(
        select(NoteRevision).where(NoteRevision.note_id == note_id).order_by(NoteRevision.revision.desc())
    ).first()


def revisions(session: Session, note_id: int) -> list[NoteRevision]:
    return list(session.exec(select(NoteRevision).where(NoteRevision.note_id == note_id).order_by(NoteRevision.revision)))


def notes_for_run(session: Session, run_id: int, kind: NoteKind | str | None = None) -> list[Note]:
    """Notes on the run, and reflections that compare it with another run."""
    query = select(Note).order_by(Note.created_at, Note.id)
    if kind:
        query = query.where(Note.kind == NoteKind(kind))
    return [n for n in session.exec(query) if n.run_id == run_id or run_id in (n.compared_run_ids or [])]


def count_observations(session: Session, run_id: int) -> int:
    return session.exec(select(func.count()).select_from(Observation).where(Observation.run_id == run_id)).one()
