"""`labloop observe --backfill RUN`: ask the vision model again about frames whose description failed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from labloop.agents.describe import DescribeInput, VisionDescriber
from labloop.agents.observer import events as rules
from labloop.agents.observer.runner import roi_for_run
from labloop.agents.vision import Roi
from labloop.agents.vision.haze import decode
from labloop.knowledge_base import observations as kb
from labloop.knowledge_base.db import session_scope
from labloop.knowledge_base.frame_store import FrameStore
from labloop.knowledge_base.models import Run

log = logging.getLogger(__name__)


@dataclass
class BackfillSummary:
    attempted: int
    filled: int
    still_failed: int


def backfill_run(
    engine: Engine, describer: VisionDescriber, frame_store: FrameStore, run_id: int, *, roi: Roi | None = None,
    disagreement: float = 1.5, on_item: Callable[[], None] | None = None,
) -> BackfillSummary:
    with session_scope(engine) as session:
        run = session.get(Run, run_id)
        if run is None:
            raise LookupError(f"run {run_id} does not exist")
        todo = kb.failed_llm_observations(session, run_id)
    roi = roi_for_run(run, roi)
    filled = 0
    for observation, frame in todo:
        item = DescribeInput(image=decode(frame_store.read(frame.path)), frame_sha256=frame.sha256,
                             elapsed_s=(frame.ts - run.started_at).total_seconds(), roi=roi)
        result = describer.describe(item) if item.image is not None else None
        with session_scope(engine) as session:
            if result is None:
                log.warning("frame %s cannot be decoded; left as failed", frame.id)
            elif result.status == "ok":
                answer = result.answer
                kb.update_llm_result(session, observation.id, provenance=result.provenance, llm_status="ok",
                                     llm_error=None, llm_score=answer.turbidity, llm_confidence=answer.confidence,
                                     llm_note=answer.note, llm_events=answer.events)
                found = rules.disagreement(observation.cv_score, answer.turbidity, disagreement, frame.id)
                if found:
                    kind, message, details, frame_id = found
                    kb.record_event(session, run_id=run_id, kind=kind, message=message, frame_id=frame_id,
                                    details={**details, "backfill": True})
                filled += 1
            else:
                kb.update_llm_result(session, observation.id, provenance=result.provenance, llm_status="failed",
                                     llm_error=result.error)
        if on_item:
            on_item()
    return BackfillSummary(attempted=len(todo), filled=filled, still_failed=len(todo) - filled)
