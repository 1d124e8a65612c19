"""The observer's nodes. Each reads the state, does one thing, and returns a partial update; writes to the
database are idempotent per frame so a resumed graph can repeat a step without duplicating records."""

from __future__ import annotations

import logging
import statistics
from datetime import datetime
from typing import Any

from langgraph.runtime import Runtime
from sqlmodel import select

from labloop.agents.describe import DescribeInput
from labloop.agents.describe.request import check_reply
from labloop.agents.llm_call import ChatReply
from labloop.agents.observer import events as rules
from labloop.agents.observer.context import ObserverContext
from labloop.agents.observer.state import ObserverState
from labloop.agents.vision.haze import VialFeatures, decode, measure_image
from labloop.knowledge_base import observations as kb
from labloop.knowledge_base.db import session_scope
from labloop.knowledge_base.models import Gap, Run, RunStatus

log = logging.getLogger(__name__)


def capture(state: ObserverState, runtime: Runtime[ObserverContext]) -> dict[str, Any]:
    """The next recorded frame after the cursor; waits for one while following a live run."""
    ctx = runtime.context
    while True:
        with session_scope(ctx.engine) as session:
            frames = kb.frames_after(session, state["run_id"], state["cursor"])
            run = session.get(Run, state["run_id"])
            live = run is not None and run.status == RunStatus.running
        if frames:
            f = frames[0]
            ref = {"id": f.id, "seq": f.seq, "ts": f.ts.isoformat(), "path": f.path, "sha256": f.sha256}
            return {"frame": ref, "measurement": None, "llm": None, "events": [], "observation_id": None}
        if not (ctx.follow and live) or ctx.stop.is_set():
            return {"frame": None, "done": True}
        ctx.frame_signal.wait(ctx.poll_s)
        ctx.frame_signal.clear()


def measure(state: ObserverState, runtime: Runtime[ObserverContext]) -> dict[str, Any]:
    """CV haze and score; the first measurable frame becomes the run's reference."""
    ctx = runtime.context
    image = _load(ctx, state["frame"])
    reference = VialFeatures.from_dict(state["reference"]) if state.get("reference") else None
    update: dict[str, Any] = {}
    if reference is None:
        first = measure_image(image, roi=ctx.roi, calibration=ctx.calibration)
        if first.quality.ok:
            reference = first.features
            update["reference"] = reference.as_dict()
    result = measure_image(image, roi=ctx.roi, reference=reference, calibration=ctx.calibration)
    update["measurement"] = {"quality": str(result.quality), "haze": result.haze, "score": result.score,
                             "mode": result.mode}
    return update


def route_after_measure(state: ObserverState, runtime: Runtime[ObserverContext]) -> str:
    """Describe every N-th frame, or when the haze moved since the last description; else persist."""
    ctx, m = runtime.context, state["measurement"]
    if ctx.describer is None or m["haze"] is None:
        return "persist"
    last = state.get("last_described_haze")
    due = state["frames_since_llm"] + 1 >= ctx.describe_every or last is None
    moved = last is not None and abs(m["haze"] - last) >= ctx.haze_trigger
    return "describe" if due or moved else "persist"


def describe(state: ObserverState, runtime: Runtime[ObserverContext]) -> dict[str, Any]:
    """One request to the vision model (validate decides whether to retry)."""
    ctx = runtime.context
    reply = ctx.describer.request(_describe_input(ctx, state))
    llm = dict(state.get("llm") or {"attempts": 0, "replies": []})
    llm["attempts"] += 1
    llm["replies"] = [*llm["replies"], reply.__dict__]
    stats = {**state["stats"], "llm_calls": state["stats"]["llm_calls"] + 1}
    return {"llm": llm, "stats": stats}


def validate(state: ObserverState, runtime: Runtime[ObserverContext]) -> dict[str, Any]:
    llm = dict(state["llm"])
    answer, error = check_reply(ChatReply(**llm["replies"][-1]))
    if answer is not None:
        llm.update(status="ok", answer=answer.model_dump(), error=None)
    elif llm["attempts"] <= runtime.context.describer.max_retries:
        llm.update(status="retry", error=error)
    else:
        llm.update(status="failed", error=error)
    return {"llm": llm}


def route_after_validate(state: ObserverState) -> str:
    return "describe" if state["llm"]["status"] == "retry" else "persist"


def persist(state: ObserverState, runtime: Runtime[ObserverContext]) -> dict[str, Any]:
    """Write the frame's one observation (or find it, when a resumed graph repeats this step)."""
    ctx, frame, m, llm = runtime.context, state["frame"], state["measurement"], state.get("llm")
    values: dict[str, Any] = {"haze": m["haze"], "cv_score": m["score"], "quality": m["quality"],
                              "ts": datetime.fromisoformat(frame["ts"])}
    provenance = kb.Provenance(source="cv")
    if llm:
        provenance = ctx.describer.provenance(frame["sha256"], [ChatReply(**r) for r in llm["replies"]])
        answer = llm.get("answer") or {}
        values.update(llm_status=llm["status"], llm_error=llm.get("error"), llm_score=answer.get("turbidity"),
                      llm_confidence=answer.get("confidence"), llm_note=answer.get("note"),
                      llm_events=answer.get("events", []))
    with session_scope(ctx.engine) as session:
        observation, _ = kb.record_observation(session, run_id=state["run_id"], frame_id=frame["id"],
                                               **values, **provenance.fields())
        observation_id = observation.id
    return {"observation_id": observation_id}


def detect(state: ObserverState, runtime: Runtime[ObserverContext]) -> dict[str, Any]:
    """Apply the event rules to this frame and record what they found (once per frame and kind)."""
    ctx, frame, m = runtime.context, state["frame"], state["measurement"]
    elapsed = (datetime.fromisoformat(frame["ts"]) - datetime.fromisoformat(state["started_at"])).total_seconds()
    history, baseline, found = list(state["history"]), state.get("baseline"), []
    if m["score"] is not None:
        history = [*history, {"frame_id": frame["id"], "seq": frame["seq"], "ts": frame["ts"], "elapsed_s": elapsed,
                              "score": m["score"]}][-rules.HISTORY:]
        if baseline is None and len(history) >= ctx.baseline_frames:
            baseline = statistics.median(p["score"] for p in history[: ctx.baseline_frames])
        found.append(rules.sudden_change(history, ctx.sudden_change))
        if state.get("onset_frame_id") is None:
            found.append(rules.onset(history, baseline, ctx.onset_rise))
    llm = state.get("llm") or {}
    if llm.get("status") == "ok":
        found.append(rules.disagreement(m["score"], llm["answer"]["turbidity"], ctx.disagreement, frame["id"]))
    found.append(rules.camera_gap(state.get("prev_ts"), frame["ts"], history, ctx.gap_factor,
                                  _gaps_between(ctx, state["run_id"], state.get("prev_ts"), frame["ts"]), frame["id"]))
    found.append(rules.bad_frame(m["quality"], state.get("last_quality", "ok"), frame["id"]))
    recorded, onset_id = [], state.get("onset_frame_id")
    with session_scope(ctx.engine) as session:
        for kind, message, details, frame_id in filter(None, found):
            event, _ = kb.record_event(session, run_id=state["run_id"], kind=kind, message=message,
                                       frame_id=frame_id, details=details)
            recorded.append({"id": event.id, "run_id": state["run_id"], "frame_id": frame_id, "kind": kind,
                             "message": message, "alerted": event.alerted})
            onset_id = frame_id if kind == "onset" else onset_id
    return {"history": history, "baseline": baseline, "events": recorded, "onset_frame_id": onset_id}


def alert(state: ObserverState, runtime: Runtime[ObserverContext]) -> dict[str, Any]:
    """Send the frame's new events to the log and webhook; mark them alerted so a resume does not resend."""
    ctx = runtime.context
    sent = [e["id"] for e in state["events"] if not e["alerted"] and ctx.alerts.send(e)]
    with session_scope(ctx.engine) as session:
        kb.mark_alerted(session, sent)
    return {}


def advance(state: ObserverState, runtime: Runtime[ObserverContext]) -> dict[str, Any]:
    """Move the cursor past this frame and keep the counters."""
    frame, m, llm = state["frame"], state["measurement"], state.get("llm")
    stats = dict(state["stats"])
    stats["frames"] += 1
    stats["events"] += len(state["events"])
    stats["unusable"] += m["quality"] != "ok"
    stats["llm_failed"] += bool(llm and llm.get("status") == "failed")
    update: dict[str, Any] = {"cursor": frame["seq"], "prev_ts": frame["ts"], "stats": stats,
                              "last_quality": "ok" if m["quality"] == "ok" else m["quality"], "frames_since_llm":
                              0 if llm else state["frames_since_llm"] + 1}
    if llm:
        update["last_described_haze"] = m["haze"]
    if runtime.context.on_frame:
        runtime.context.on_frame({**frame, **m, "llm": (llm or {}).get("status"), "events": state["events"]})
    return update


def _describe_input(ctx: ObserverContext, state: ObserverState) -> DescribeInput:
    frame = state["frame"]
    elapsed = (datetime.fromisoformat(frame["ts"]) - datetime.fromisoformat(state["started_at"])).total_seconds()
    return DescribeInput(image=_load(ctx, frame), frame_sha256=frame["sha256"], elapsed_s=elapsed, roi=ctx.roi)


def _load(ctx: ObserverContext, frame: dict[str, Any]) -> Any:
    try:
        return decode(ctx.frame_store.read(frame["path"]))
    except (OSError, ValueError) as exc:
        log.error("frame %s: file %s unreadable (%s)", frame["id"], frame["path"], exc)
        return None


def _gaps_between(ctx: ObserverContext, run_id: int, start: str | None, end: str) -> list[dict[str, Any]]:
    if start is None:
        return []
    with session_scope(ctx.engine) as session:
        gaps = session.exec(select(Gap).where(Gap.run_id == run_id, Gap.started_at >= datetime.fromisoformat(start),
                                              Gap.started_at < datetime.fromisoformat(end))).all()
    return [{"device": g.device, "reason": g.reason} for g in gaps]
