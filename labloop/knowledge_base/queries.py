"""Read-only questions the dashboard and the chat ask of the knowledge base. Pages and tools call these;
they never write SQL themselves. Every function takes a session and returns plain dataclasses or model rows."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from labloop.knowledge_base.models import (
    CorpusBuild,
    DeviceEvent,
    Experiment,
    Frame,
    Gap,
    HumanLabel,
    ModelVersion,
    Molecule,
    MoleculeName,
    Note,
    NoteRevision,
    Observation,
    ObserverEvent,
    PropertyConsensus,
    PropertyMeasurement,
    Result,
    Run,
    TrainingRun,
)

INCHIKEY_RE = re.compile(r"^[A-Z]{14}-[A-Z]{10}-[A-Z]$")
MAX_SEARCH_CHARS = 500
MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL


class RecordNotFound(LookupError):
    """A record id that does not exist; the message names the kind and id."""

    def __init__(self, kind: str, record_id: object) -> None:
        super().__init__(f"there is no {kind} with id {record_id!r}")
        self.kind, self.record_id = kind, record_id


@dataclass(frozen=True)
class RunSummary:
    run: Run
    experiment_name: str
    n_frames: int
    last_frame_at: datetime | None


@dataclass(frozen=True)
class SeriesPoint:
    """One frame's scores: CV (computed, no model), LLM (vision model) and the mean human label."""

    frame_id: int
    seq: int
    ts: datetime
    t_min: float
    observation_id: int | None
    haze: float | None
    cv_score: float | None
    llm_score: float | None
    llm_model: str | None
    human_score: float | None
    n_labels: int


@dataclass(frozen=True)
class NoteView:
    note: Note
    revisions: list[NoteRevision]

    @property
    def latest(self) -> NoteRevision | None:
        return self.revisions[-1] if self.revisions else None


@dataclass(frozen=True)
class Timeline:
    dispenses: list[DeviceEvent]
    gaps: list[Gap]
    observer_events: list[ObserverEvent]
    event_minutes: dict[int, float] = field(default_factory=dict)  # observer event id -> minutes into the run


def event_minute(session: Session, run: Run, event: ObserverEvent) -> float:
    """When an observer event happened in run time: its recorded elapsed time, else its frame's time, else its
    own timestamp (an observer replaying a run writes events later than the frames they are about)."""
    elapsed = (event.details or {}).get("elapsed_s")
    if isinstance(elapsed, int | float):
        return float(elapsed) / 60.0
    frame = session.get(Frame, event.frame_id) if event.frame_id else None
    return ((frame.ts if frame else event.ts) - run.started_at).total_seconds() / 60.0


@dataclass(frozen=True)
class FrameView:
    frame: Frame
    run_started_at: datetime
    observation: Observation | None
    labels: list[HumanLabel]

    @property
    def t_min(self) -> float:
        return (self.frame.ts - self.run_started_at).total_seconds() / 60.0


@dataclass(frozen=True)
class MoleculeDetail:
    molecule: Molecule
    names: list[str]
    measurements: list[PropertyMeasurement]
    consensus: list[PropertyConsensus]


@dataclass
class TrainingOverview:
    corpus_builds: list[CorpusBuild] = field(default_factory=list)
    training_runs: list[TrainingRun] = field(default_factory=list)
    model_versions: list[ModelVersion] = field(default_factory=list)

    @property
    def promoted(self) -> ModelVersion | None:
        return next((m for m in self.model_versions if m.promoted), None)


def _get(session: Session, model: type, kind: str, record_id: int):  # noqa: ANN202
    """A row by primary key; ids that cannot exist (negative, beyond 32 bits, not integers) are simply not found."""
    if isinstance(record_id, bool) or not isinstance(record_id, int) or not 0 < record_id <= MAX_ID:
        raise RecordNotFound(kind, record_id)
    row = session.get(model, record_id)
    if row is None:
        raise RecordNotFound(kind, record_id)
    return row


def _contains(text: str) -> str:
    """A LIKE pattern matching `text` literally (its % and _ are not wildcards); used with escape='\\'."""
    escaped = text.strip()[:MAX_SEARCH_CHARS].lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# --- experiments and runs -------------------------------------------------------------------------------


def list_experiments(session: Session) -> list[Experiment]:
    return list(session.exec(select(Experiment).order_by(col(Experiment.id).desc())).all())


def get_run(session: Session, run_id: int) -> Run:
    return _get(session, Run, "run", run_id)


def list_runs(
    session: Session, *, status: str | None = None, operator: str | None = None, experiment_id: int | None = None,
    text: str | None = None, limit: int = 200,
) -> list[RunSummary]:
    """Newest runs first, with frame counts, optionally filtered."""
    frames = (
        select(Frame.run_id, func.count().label("n"), func.max(Frame.ts).label("last"))
        .group_by(Frame.run_id).subquery()
    )
    query = (
        select(Run, Experiment.name, frames.c.n, frames.c.last)
        .outerjoin(Experiment, Experiment.id == Run.experiment_id)
        .outerjoin(frames, frames.c.run_id == Run.id)
    )
    if status:
        query = query.where(Run.status == status)
    if operator:
        query = query.where(Run.operator == operator)
    if experiment_id is not None:
        query = query.where(Run.experiment_id == experiment_id)
    if text:
        like = _contains(text)
        query = query.where(or_(func.lower(Run.name).like(like, escape="\\"),
                                func.lower(Experiment.name).like(like, escape="\\")))
    rows = session.exec(query.order_by(col(Run.started_at).desc(), col(Run.id).desc()).limit(limit)).all()
    return [RunSummary(run, exp or "", n or 0, last) for run, exp, n, last in rows]


def run_timeline(session: Session, run_id: int, *, limit: int = 500) -> Timeline:
    """Dispenses and other non-line device happenings, gaps and observer events, in time order."""
    run = get_run(session, run_id)
    dispenses = session.exec(
        select(DeviceEvent).where(DeviceEvent.run_id == run_id, DeviceEvent.direction == "info")
        .order_by(DeviceEvent.ts, DeviceEvent.seq).limit(limit)
    ).all()
    gaps = session.exec(select(Gap).where(Gap.run_id == run_id).order_by(Gap.started_at)).all()
    events = session.exec(
        select(ObserverEvent).where(ObserverEvent.run_id == run_id).order_by(ObserverEvent.ts).limit(limit)
    ).all()
    return Timeline(list(dispenses), list(gaps), list(events), {e.id: event_minute(session, run, e) for e in events})


def device_log(session: Session, run_id: int, *, limit: int = 200) -> list[DeviceEvent]:
    """The newest `limit` device lines of a run, oldest first."""
    rows = session.exec(
        select(DeviceEvent).where(DeviceEvent.run_id == run_id)
        .order_by(col(DeviceEvent.ts).desc(), col(DeviceEvent.seq).desc()).limit(limit)
    ).all()
    return list(reversed(rows))


def turbidity_series(session: Session, run_id: int) -> list[SeriesPoint]:
    """Every frame of a run with its observation and the mean of its human labels."""
    run = get_run(session, run_id)
    labels = (
        select(HumanLabel.frame_id, func.avg(HumanLabel.score).label("mean"), func.count().label("n"))
        .join(Frame, Frame.id == HumanLabel.frame_id).where(Frame.run_id == run_id)
        .group_by(HumanLabel.frame_id).subquery()
    )
    rows = session.exec(
        select(
            Frame.id, Frame.seq, Frame.ts, Observation.id, Observation.haze, Observation.cv_score,
            Observation.llm_score, Observation.model, labels.c.mean, labels.c.n,
        )
        .outerjoin(Observation, Observation.frame_id == Frame.id)
        .outerjoin(labels, labels.c.frame_id == Frame.id)
        .where(Frame.run_id == run_id).order_by(Frame.seq)
    ).all()
    return [
        SeriesPoint(fid, seq, ts, (ts - run.started_at).total_seconds() / 60.0, oid, haze, cv, llm,
                    model if llm is not None else None, human, n or 0)
        for fid, seq, ts, oid, haze, cv, llm, model, human, n in rows
    ]


def run_frames(session: Session, run_id: int) -> list[Frame]:
    get_run(session, run_id)
    return list(session.exec(select(Frame).where(Frame.run_id == run_id).order_by(Frame.seq)).all())


def frame_view(session: Session, frame_id: int) -> FrameView:
    frame = _get(session, Frame, "frame", frame_id)
    run = get_run(session, frame.run_id)
    obs = session.exec(select(Observation).where(Observation.frame_id == frame_id)).first()
    labels = session.exec(select(HumanLabel).where(HumanLabel.frame_id == frame_id).order_by(HumanLabel.id)).all()
    return FrameView(frame, run.started_at, obs, list(labels))


def latest_frame(session: Session, run_id: int) -> FrameView | None:
    fid = session.exec(select(func.max(Frame.id)).where(Frame.run_id == run_id)).one()
    return frame_view(session, fid) if fid is not None else None


def frame_at(session: Session, run_id: int, t_min: float) -> FrameView | None:
    """The frame nearest to `t_min` minutes after the run started (runs are compared at matching times)."""
    points = turbidity_series(session, run_id)
    if not points:
        return None
    best = min(points, key=lambda p: abs(p.t_min - t_min))
    return frame_view(session, best.frame_id)


def frames_to_label(session: Session, run_id: int, *, unlabelled_only: bool = True, limit: int = 500) -> list[Frame]:
    query = select(Frame).where(Frame.run_id == run_id)
    if unlabelled_only:
        query = query.where(col(Frame.id).not_in(select(HumanLabel.frame_id)))
    return list(session.exec(query.order_by(Frame.seq).limit(limit)).all())


ONSET_SCORE = 1.0


@dataclass(frozen=True)
class RunStats:
    """A run's curve in numbers. `onset_min` is computed (first CV score >= ONSET_SCORE, no model);
    `onset_event_min` is the observer's own onset event, when it recorded one."""

    run: Run
    n_frames: int
    duration_min: float | None
    max_cv: float | None
    final_cv: float | None
    onset_min: float | None
    onset_event_min: float | None
    results: list[Result]


def run_stats(session: Session, run_id: int) -> RunStats:
    run = get_run(session, run_id)
    points = turbidity_series(session, run_id)
    scored = [p for p in points if p.cv_score is not None]
    onset = next((p.t_min for p in scored if p.cv_score >= ONSET_SCORE), None)
    event = session.exec(
        select(ObserverEvent).where(ObserverEvent.run_id == run_id, ObserverEvent.kind == "onset")
        .order_by(ObserverEvent.ts)
    ).first()
    return RunStats(
        run=run, n_frames=len(points), duration_min=points[-1].t_min if points else None,
        max_cv=max((p.cv_score for p in scored), default=None), final_cv=scored[-1].cv_score if scored else None,
        onset_min=onset, onset_event_min=event_minute(session, run, event) if event else None,
        results=run_results(session, run_id),
    )


# --- notes, reflections, results ------------------------------------------------------------------------


def _with_revisions(session: Session, notes: list[Note]) -> list[NoteView]:
    if not notes:
        return []
    revs: dict[int, list[NoteRevision]] = defaultdict(list)
    for rev in session.exec(
        select(NoteRevision).where(col(NoteRevision.note_id).in_([n.id for n in notes])).order_by(NoteRevision.revision)
    ).all():
        revs[rev.note_id].append(rev)
    return [NoteView(n, revs[n.id]) for n in notes]


def run_notes(session: Session, run_id: int, *, kind: str | None = None) -> list[NoteView]:
    """Notes attached to a run (and reflections that compared it), each with every revision, oldest first."""
    get_run(session, run_id)
    query = select(Note).where(Note.run_id == run_id)
    if kind:
        query = query.where(Note.kind == kind)
    notes = list(session.exec(query.order_by(Note.id)).all())
    if kind in (None, "reflection"):
        seen = {n.id for n in notes}
        for note in session.exec(select(Note).where(Note.kind == "reflection").order_by(Note.id)).all():
            if note.id not in seen and run_id in (note.compared_run_ids or []):
                notes.append(note)
    return _with_revisions(session, notes)


def get_note(session: Session, note_id: int) -> NoteView:
    note = _get(session, Note, "note", note_id)
    return _with_revisions(session, [note])[0]


def reflections_for(session: Session, run_ids: list[int]) -> list[NoteView]:
    """Reflections whose compared runs include all of `run_ids`, newest first."""
    wanted = set(run_ids)
    notes = [
        n for n in session.exec(select(Note).where(Note.kind == "reflection").order_by(col(Note.id).desc())).all()
        if wanted <= set(n.compared_run_ids or []) | {n.run_id}
    ]
    return _with_revisions(session, notes)


def run_results(session: Session, run_id: int) -> list[Result]:
    get_run(session, run_id)
    return list(session.exec(select(Result).where(Result.run_id == run_id).order_by(Result.id)).all())


# --- molecules ------------------------------------------------------------------------------------------


def search_molecules(session: Session, query: str, *, limit: int = 25) -> list[Molecule]:
    """By InChIKey, exact canonical SMILES, or name (case-insensitive substring). A query that is not a known
    name and does not parse as SMILES raises `InvalidSmiles` with RDKit's reason."""
    from labloop.knowledge_base.chem import InvalidSmiles, canonicalize

    text = (query or "").strip()
    if not text:
        return []
    if len(text) > MAX_SEARCH_CHARS:
        raise ValueError(f"search text is {len(text)} characters; at most {MAX_SEARCH_CHARS} are allowed")
    if INCHIKEY_RE.match(text.upper()):
        return list(session.exec(select(Molecule).where(Molecule.inchikey == text.upper()).limit(limit)).all())
    like = _contains(text)
    ids = select(MoleculeName.molecule_id).where(col(MoleculeName.name_lower).like(like, escape="\\"))
    by_name = list(session.exec(
        select(Molecule).where(or_(col(Molecule.id).in_(ids), func.lower(Molecule.name).like(like, escape="\\")))
        .order_by(func.length(Molecule.name), Molecule.id).limit(limit)
    ).all())
    if by_name:
        return by_name
    try:
        canonical = canonicalize(text)
    except InvalidSmiles:
        if " " in text or text.isalpha() and text.islower():
            return []  # reads like a name that is not in the database
        raise
    return list(session.exec(select(Molecule).where(Molecule.smiles == canonical.smiles)).all())


def molecule_detail(session: Session, molecule_id: int) -> MoleculeDetail:
    mol = _get(session, Molecule, "molecule", molecule_id)
    names = session.exec(select(MoleculeName.name).where(MoleculeName.molecule_id == molecule_id)).all()
    meas = session.exec(
        select(PropertyMeasurement).where(PropertyMeasurement.molecule_id == molecule_id)
        .order_by(PropertyMeasurement.property, PropertyMeasurement.value)
    ).all()
    cons = session.exec(select(PropertyConsensus).where(PropertyConsensus.molecule_id == molecule_id)).all()
    return MoleculeDetail(mol, sorted(set(names)), list(meas), list(cons))


# --- training (read-only) -------------------------------------------------------------------------------


def training_overview(session: Session, *, limit: int = 100) -> TrainingOverview:
    return TrainingOverview(
        list(session.exec(select(CorpusBuild).order_by(col(CorpusBuild.id).desc()).limit(limit)).all()),
        list(session.exec(select(TrainingRun).order_by(col(TrainingRun.id).desc()).limit(limit)).all()),
        list(session.exec(select(ModelVersion).order_by(col(ModelVersion.id).desc()).limit(limit)).all()),
    )
