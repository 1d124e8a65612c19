"""The observer's checkpointed state: plain JSON-able values only (frames are referenced, never embedded)."""

from __future__ import annotations

from typing import Any, TypedDict


class FrameRef(TypedDict):
    id: int
    seq: int
    ts: str
    path: str
    sha256: str


class ObserverState(TypedDict, total=False):
    run_id: int
    started_at: str  # the run's start (ISO), for elapsed times
    cursor: int  # seq of the last frame fully handled; -1 before the first
    frame: FrameRef | None
    measurement: dict[str, Any] | None  # quality, haze, score, mode
    reference: dict[str, Any] | None  # VialFeatures of the run's reference frame
    llm: dict[str, Any] | None  # status, attempts, replies, answer, error
    observation_id: int | None
    last_described_haze: float | None
    frames_since_llm: int
    history: list[dict[str, Any]]  # recent measured points: frame_id, seq, ts, score
    baseline: float | None
    onset_frame_id: int | None
    prev_ts: str | None
    last_quality: str
    events: list[dict[str, Any]]
    stats: dict[str, int]
    done: bool


def initial_state(run_id: int, started_at: str) -> ObserverState:
    return ObserverState(
        run_id=run_id, started_at=started_at, cursor=-1, frame=None, measurement=None, reference=None, llm=None,
        observation_id=None, last_described_haze=None, frames_since_llm=0, history=[], baseline=None,
        onset_frame_id=None, prev_ts=None, last_quality="ok", events=[],
        stats={"frames": 0, "llm_calls": 0, "llm_failed": 0, "events": 0, "unusable": 0}, done=False,
    )
