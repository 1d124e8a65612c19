"""The chat's read-only tools. Each opens a session on the context's read-only engine, calls knowledge_base
queries and returns plain JSON in which every record carries a `ref` such as "run:3" for citations."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from labloop.agents.chat.context import ChatContext
from labloop.agents.chat.molecules import descriptors, predictions
from labloop.agents.chat.toolbox import Tool, Toolbox, ToolFailure
from labloop.knowledge_base import queries as q


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class FindRuns(Args):
    text: str | None = Field(None, max_length=200, description="Words in the run or experiment name")
    status: Literal["running", "success", "aborted", "failed"] | None = None
    operator: Literal["robot", "human"] | None = None
    experiment_id: int | None = None
    limit: int = Field(20, ge=1, le=50)


class RunId(Args):
    run_id: int = Field(description="Run id, e.g. 3 for run:3")


class Series(RunId):
    max_points: int = Field(40, ge=2, le=200, description="Downsample the curve to at most this many points")


class FrameAt(RunId):
    minute: float = Field(ge=0, description="Minutes since the run started")


class LookAtFrame(Args):
    frame_id: int
    question: str = Field("Describe the liquid: clear, hazy or milky? Score turbidity 0-5.", max_length=500)


class MoleculeQuery(Args):
    query: str = Field(min_length=1, max_length=500, description="Name, SMILES or InChIKey")


class Predict(Args):
    smiles: str = Field(min_length=1, max_length=500)
    property: Literal["melting_point"] = "melting_point"


class Compare(Args):
    run_ids: list[int] = Field(min_length=2, max_length=5)


class NoArgs(Args):
    pass


def _ts(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _run(r: q.RunSummary) -> dict[str, Any]:
    run = r.run
    return {"ref": f"run:{run.id}", "name": run.name, "operator": run.operator, "status": run.status,
            "experiment": f"experiment:{run.experiment_id}" if run.experiment_id else None,
            "experiment_name": r.experiment_name, "started_at": _ts(run.started_at), "stopped_at": _ts(run.stopped_at),
            "parameters": run.parameters, "n_frames": r.n_frames}


def find_runs(ctx: ChatContext, a: FindRuns) -> dict[str, Any]:
    with Session(ctx.engine) as s:
        runs = q.list_runs(s, status=a.status, operator=a.operator, experiment_id=a.experiment_id, text=a.text,
                           limit=a.limit)
    return {"runs": [_run(r) for r in runs]}


def list_experiments(ctx: ChatContext, _a: NoArgs) -> dict[str, Any]:
    with Session(ctx.engine) as s:
        return {"experiments": [{"ref": f"experiment:{e.id}", "name": e.name, "goal": e.goal, "setup": e.setup,
                                 "created_by": e.created_by} for e in q.list_experiments(s)]}


def run_timeline(ctx: ChatContext, a: RunId) -> dict[str, Any]:
    with Session(ctx.engine) as s:
        run = q.get_run(s, a.run_id)
        t = q.run_timeline(s, a.run_id, limit=100)
    rel = lambda ts: round((ts - run.started_at).total_seconds() / 60.0, 2)  # noqa: E731
    return {
        "run": f"run:{run.id}", "status": run.status, "exit_reason": run.exit_reason,
        "started_at": _ts(run.started_at), "stopped_at": _ts(run.stopped_at),
        "device_events": [{"ref": f"event:{e.id}", "t_min": rel(e.ts), "device": e.device, "kind": e.kind,
                           "payload": e.payload[:200]} for e in t.dispenses],
        "gaps": [{"ref": f"gap:{g.id}", "device": g.device, "reason": g.reason, "t_min": rel(g.started_at),
                  "ended_t_min": rel(g.ended_at) if g.ended_at else None} for g in t.gaps],
        "observer_events": [{"t_min": round(t.event_minutes[e.id], 2), "kind": e.kind, "message": e.message,
                             "frame": f"frame:{e.frame_id}" if e.frame_id else None} for e in t.observer_events],
    }


def turbidity_series(ctx: ChatContext, a: Series) -> dict[str, Any]:
    with Session(ctx.engine) as s:
        points = q.turbidity_series(s, a.run_id)
        stats = q.run_stats(s, a.run_id)
    step = max(1, -(-len(points) // a.max_points))
    keep = points[::step]
    return {
        "run": f"run:{a.run_id}", "n_frames": len(points), "every_nth_frame": step,
        "onset_t_min_computed": stats.onset_min, "onset_rule": f"first CV score >= {q.ONSET_SCORE} (computed, no model)",
        "onset_t_min_observer_event": stats.onset_event_min, "max_cv_score": stats.max_cv,
        "points": [{"frame": f"frame:{p.frame_id}", "t_min": round(p.t_min, 2), "cv_score": p.cv_score,
                    "llm_score": p.llm_score, "llm_model": p.llm_model, "human_score": p.human_score}
                   for p in keep],
    }


def run_notes(ctx: ChatContext, a: RunId) -> dict[str, Any]:
    with Session(ctx.engine) as s:
        views = q.run_notes(s, a.run_id)
        results = q.run_results(s, a.run_id)
    notes = []
    for v in views:
        latest = v.latest
        notes.append({"ref": f"note:{v.note.id}", "kind": v.note.kind, "title": v.note.title,
                      "compared_runs": [f"run:{i}" for i in v.note.compared_run_ids],
                      "revisions": len(v.revisions),
                      "latest": None if latest is None else {
                          "ref": f"revision:{latest.id}", "author": latest.author, "source": latest.source,
                          "model": latest.model, "written_at": _ts(latest.created_at), "text": latest.body[:4000]}})
    return {"run": f"run:{a.run_id}", "notes": notes,
            "results": [{"ref": f"result:{r.id}", "quantity": r.quantity, "value": r.value, "unit": r.unit,
                         "method": r.method, "author": r.author} for r in results]}


def _frame(v: q.FrameView) -> dict[str, Any]:
    o = v.observation
    return {"ref": f"frame:{v.frame.id}", "run": f"run:{v.frame.run_id}", "seq": v.frame.seq, "t_min": round(v.t_min, 2),
            "ts": _ts(v.frame.ts), "observation": None if o is None else {
                "ref": f"observation:{o.id}", "haze": o.haze, "cv_score": o.cv_score, "llm_score": o.llm_score,
                "llm_note": o.llm_note, "llm_model": o.model, "llm_status": o.llm_status},
            "human_labels": [{"ref": f"label:{lab.id}", "score": lab.score, "author": lab.author} for lab in v.labels]}


def frame_at(ctx: ChatContext, a: FrameAt) -> dict[str, Any]:
    with Session(ctx.engine) as s:
        view = q.frame_at(s, a.run_id, a.minute)
    if view is None:
        raise ToolFailure(f"run:{a.run_id} has no frames")
    return _frame(view)


def look_at_frame(ctx: ChatContext, a: LookAtFrame) -> dict[str, Any]:
    from labloop.agents.chat.vision import describe_frame

    with Session(ctx.engine) as s:
        view = q.frame_view(s, a.frame_id)
    return {**_frame(view), "vision": describe_frame(ctx, view.frame, a.question)}


def lookup_molecule(ctx: ChatContext, a: MoleculeQuery) -> dict[str, Any]:
    from labloop.knowledge_base.chem import InvalidSmiles

    with Session(ctx.engine) as s:
        try:
            found = q.search_molecules(s, a.query, limit=5)
        except InvalidSmiles as exc:
            raise ToolFailure(f"{a.query!r} is not a known name and not a valid SMILES: {exc}") from None
        details = [q.molecule_detail(s, m.id) for m in found]
    if not details:
        return {"query": a.query, "molecules": [], "note": "no molecule with that name, SMILES or InChIKey"}
    return {"query": a.query, "molecules": [_molecule(d) for d in details]}


def _molecule(d: q.MoleculeDetail) -> dict[str, Any]:
    m = d.molecule
    return {
        "ref": f"molecule:{m.id}", "name": m.name, "names": d.names[:10], "smiles": m.smiles, "inchikey": m.inchikey,
        "descriptors_rdkit": descriptors(m.smiles),
        "consensus": [{"property": c.property, "median": c.value, "unit": c.unit, "n_measurements": c.n_measurements,
                       "min": c.min_value, "max": c.max_value, "spread": round(c.max_value - c.min_value, 3)}
                      for c in d.consensus],
        "measurements": [{"ref": f"measurement:{p.id}", "property": p.property, "value": p.value, "unit": p.unit,
                          "source": p.source, "dataset": p.dataset, "link": p.link} for p in d.measurements[:30]],
    }


def predict_property(ctx: ChatContext, a: Predict) -> dict[str, Any]:
    from labloop.knowledge_base.chem import InvalidSmiles, canonicalize

    try:
        canonical = canonicalize(a.smiles)
    except InvalidSmiles as exc:
        raise ToolFailure(f"invalid SMILES {a.smiles!r}: {exc}") from None
    return {"smiles": canonical.smiles, "property": a.property,
            **predictions(ctx.engine, ctx.settings, canonical.smiles, a.property)}


def compare_runs(ctx: ChatContext, a: Compare) -> dict[str, Any]:
    with Session(ctx.engine) as s:
        stats = [q.run_stats(s, rid) for rid in a.run_ids]
        reflections = q.reflections_for(s, a.run_ids)
    return {
        "onset_rule": f"first CV score >= {q.ONSET_SCORE} (computed, no model)",
        "runs": [{"ref": f"run:{st.run.id}", "name": st.run.name, "operator": st.run.operator,
                  "parameters": st.run.parameters, "n_frames": st.n_frames, "duration_min": st.duration_min,
                  "onset_t_min_computed": st.onset_min, "onset_t_min_observer_event": st.onset_event_min,
                  "max_cv_score": st.max_cv, "final_cv_score": st.final_cv,
                  "results": [{"ref": f"result:{r.id}", "quantity": r.quantity, "value": r.value, "unit": r.unit,
                               "method": r.method} for r in st.results]} for st in stats],
        "reflections": [{"ref": f"note:{v.note.id}", "text": v.latest.body[:3000], "author": v.latest.author,
                         "source": v.latest.source, "model": v.latest.model} for v in reflections[:3] if v.latest],
    }


TOOLBOX = Toolbox([
    Tool("find_runs", "Find runs (newest first) by name text, status, operator or experiment.", FindRuns, find_runs),
    Tool("list_experiments", "List experiments with their goal and the chemist's setup.", NoArgs, list_experiments),
    Tool("run_timeline", "A run's dispenses and device happenings, gaps and observer events (onset, alerts).",
         RunId, run_timeline),
    Tool("turbidity_series", "A run's turbidity curve: CV, LLM and human scores over time, and the onset.",
         Series, turbidity_series),
    Tool("run_notes", "A run's lab notes and reflections (latest revision, author, model) and measured results.",
         RunId, run_notes),
    Tool("frame_at", "The frame nearest to a time in a run, with its scores and labels.", FrameAt, frame_at),
    Tool("look_at_frame", "Show a frame to the vision model and return what it sees (labelled with the model).",
         LookAtFrame, look_at_frame),
    Tool("lookup_molecule", "Find a molecule by name, SMILES or InChIKey: canonical structure, RDKit descriptors, "
         "measured properties with sources and spread.", MoleculeQuery, lookup_molecule),
    Tool("predict_property", "Predict a property from the promoted model and the baseline, each labelled.",
         Predict, predict_property),
    Tool("compare_runs", "Compare 2-5 runs: onset, final score, results, and reflections about them.",
         Compare, compare_runs),
])
