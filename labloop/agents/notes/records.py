"""Everything a note may say about a run, loaded once: setup, robot log, observations, labels, events,
gaps and results, and the numbers those records allow."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from labloop.agents.notes.numbers import AllowedNumbers, elapsed_hm
from labloop.agents.observer.runner import roi_for_run
from labloop.devices.marlin.syringe import volume_ml
from labloop.knowledge_base import observations as kb
from labloop.knowledge_base.models import DeviceEvent, Experiment, Gap, Result, Run


MAX_TABLE_ROWS = 24


@dataclass
class Point:
    frame_id: int
    seq: int
    elapsed_s: float
    cv: float | None
    llm: float | None
    human: float | None
    quality: str
    llm_note: str | None = None


@dataclass
class RunRecord:
    run: Run
    experiment: Experiment | None
    points: list[Point]
    robot_log: list[tuple[float, str, str]]  # elapsed s, kind, payload: dispenses and other device happenings
    device_counts: dict[str, int]
    events: list[Any]
    gaps: list[Gap]
    results: list[Result]
    frame_paths: dict[int, str] = field(default_factory=dict)
    frame_hashes: dict[int, str] = field(default_factory=dict)

    @property
    def dispensed_ml(self) -> float:
        return round(sum(volume_ml(p) or 0.0 for _, kind, p in self.robot_log if kind == "dispense"), 6)

    @property
    def label(self) -> str:
        return f"run {self.run.id} ({self.run.operator})"

    @property
    def onset_s(self) -> float | None:
        return next((e.details.get("elapsed_s") for e in self.events if e.kind == "onset"), None)

    @property
    def simulated(self) -> bool:
        snapshot = self.run.config_snapshot or {}
        camera = snapshot.get("camera") if isinstance(snapshot.get("camera"), dict) else {}
        return snapshot.get("clock") == "sim" or camera.get("kind") == "sim" or bool(snapshot.get("simulated"))

    @property
    def roi_centre_x(self) -> float | None:
        roi = roi_for_run(self.run, None)
        return roi.centre[0] if roi else None

    @property
    def placement_offset_mm(self) -> float | None:
        camera = (self.run.config_snapshot or {}).get("camera") or {}
        value = camera.get("offset") if isinstance(camera, dict) else None
        return float(value) if isinstance(value, int | float) else None

    def table(self) -> list[Point]:
        """At most MAX_TABLE_ROWS evenly spaced points, always with the onset frame and the last frame."""
        if len(self.points) <= MAX_TABLE_ROWS:
            return self.points
        step = len(self.points) / (MAX_TABLE_ROWS - 1)
        keep = {int(i * step) for i in range(MAX_TABLE_ROWS - 1)} | {len(self.points) - 1}
        onset_ids = {e.frame_id for e in self.events if e.kind == "onset"}
        return [p for i, p in enumerate(self.points) if i in keep or p.frame_id in onset_ids or p.human is not None]

    def allowed_numbers(self) -> AllowedNumbers:
        allowed = AllowedNumbers()
        self.add_to(allowed)
        return allowed

    def add_to(self, allowed: AllowedNumbers) -> None:
        run = self.run
        allowed.add(run.id, len(self.points), len(self.events), len(self.gaps), self.roi_centre_x,
                    self.placement_offset_mm, *self.device_counts.values())
        allowed.add_tokens(run.started_at.date().isoformat(), run.started_at.strftime("%H:%M"))
        if run.stopped_at:
            allowed.add_tokens(run.stopped_at.date().isoformat(), run.stopped_at.strftime("%H:%M"))
            allowed.add_tokens(elapsed_hm((run.stopped_at - run.started_at).total_seconds()))
            allowed.add((run.stopped_at - run.started_at).total_seconds() / 3600)
        for text in (run.name, run.exit_reason, self.experiment.name if self.experiment else "",
                     self.experiment.setup if self.experiment else "", self.experiment.goal if self.experiment else ""):
            allowed.add_text(text)
        for gap in self.gaps:
            allowed.add_tokens(elapsed_hm((gap.started_at - run.started_at).total_seconds()))
            allowed.add_text(gap.reason)
        for p in self.points:
            allowed.add(p.cv, p.llm, p.human, p.elapsed_s / 3600, p.seq, p.frame_id)
            allowed.add_tokens(elapsed_hm(p.elapsed_s))
        allowed.add(len(self.robot_log), self.dispensed_ml)
        for elapsed, _, payload in self.robot_log:
            allowed.add_tokens(elapsed_hm(elapsed))
            allowed.add_text(payload)
        for event in self.events:
            allowed.add_text(event.message)
            allowed.add(event.id, *(v for v in event.details.values() if isinstance(v, int | float)))
        for result in self.results:
            allowed.add(result.value)
            allowed.add_text(f"{result.quantity} {result.unit} {result.method}")
        scores = [p.cv for p in self.points if p.cv is not None]
        if scores:
            allowed.add(max(scores), min(scores))


def load_run_record(session: Session, run_id: int) -> RunRecord:
    run = session.get(Run, run_id)
    if run is None:
        raise LookupError(f"run {run_id} does not exist; the Runs page of `labloop dashboard` lists the recorded runs")
    experiment = session.get(Experiment, run.experiment_id) if run.experiment_id else None
    humans = kb.human_scores_for_run(session, run_id)
    points, paths, hashes = [], {}, {}
    for obs, frame in kb.observations_for_run(session, run_id):
        points.append(Point(frame.id, frame.seq, (frame.ts - run.started_at).total_seconds(), obs.cv_score,
                            obs.llm_score if obs.llm_status == "ok" else None, humans.get(frame.id), obs.quality,
                            obs.llm_note if obs.llm_status == "ok" else None))
        paths[frame.id], hashes[frame.id] = frame.path, frame.sha256
    device_events = session.exec(select(DeviceEvent).where(DeviceEvent.run_id == run_id).order_by(DeviceEvent.seq)).all()
    counts: dict[str, int] = {"device_events": len(device_events)}
    for event in device_events:
        counts[event.kind] = counts.get(event.kind, 0) + 1
    # what happened (dispenses with volumes, connects, programs, interruptions), not every line on the wire
    robot_log = [((e.ts - run.started_at).total_seconds(), e.kind, e.payload)
                 for e in device_events if e.direction == "info" and e.device == "robot"]
    gaps = list(session.exec(select(Gap).where(Gap.run_id == run_id).order_by(Gap.started_at)))
    results = list(session.exec(select(Result).where(Result.run_id == run_id).order_by(Result.id)))
    return RunRecord(run, experiment, points, robot_log, counts, kb.events_for_run(session, run_id), gaps, results,
                     paths, hashes)
