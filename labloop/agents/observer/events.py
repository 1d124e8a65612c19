"""Event rules, as pure functions of the recent history: turbidity onset, sudden change, CV/LLM
disagreement and camera gaps. Each returns (kind, message, details) tuples."""

from __future__ import annotations

import statistics
from datetime import datetime
from typing import Any

Event = tuple[str, str, dict[str, Any], int | None]  # kind, message, details, frame id the event refers to

HISTORY = 12


def elapsed_text(seconds: float) -> str:
    hours, rest = divmod(int(round(seconds)), 3600)
    return f"{hours}:{rest // 60:02d} h"


def onset(history: list[dict[str, Any]], baseline: float | None, rise: float) -> Event | None:
    """Two consecutive measured scores above baseline + rise: the onset is the first of them."""
    if baseline is None or len(history) < 2:
        return None
    before, now = history[-2], history[-1]
    if before["score"] > baseline + rise and now["score"] > baseline + rise:
        return ("onset", f"turbidity onset at {elapsed_text(before['elapsed_s'])}: CV score {before['score']:.2f} "
                f"rose above the baseline {baseline:.2f}",
                {"baseline": baseline, "score": before["score"], "elapsed_s": before["elapsed_s"], "ts": before["ts"]},
                before["frame_id"])
    return None


def sudden_change(history: list[dict[str, Any]], threshold: float) -> Event | None:
    if len(history) < 2:
        return None
    before, now = history[-2], history[-1]
    delta = now["score"] - before["score"]
    if abs(delta) >= threshold:
        return ("sudden_change", f"CV score changed by {delta:+.2f} between {elapsed_text(before['elapsed_s'])} "
                f"and {elapsed_text(now['elapsed_s'])}", {"from": before["score"], "to": now["score"]}, now["frame_id"])
    return None


def disagreement(cv_score: float | None, llm_score: float | None, threshold: float, frame_id: int) -> Event | None:
    if cv_score is None or llm_score is None or abs(cv_score - llm_score) <= threshold:
        return None
    return ("disagreement", f"CV score {cv_score:.2f} and vision-model score {llm_score:.2f} differ by more than "
            f"{threshold:g}: worth a human look", {"cv_score": cv_score, "llm_score": llm_score}, frame_id)


def camera_gap(prev_ts: str | None, ts: str, history: list[dict[str, Any]], factor: float,
               gaps: list[dict[str, Any]], frame_id: int) -> Event | None:
    """A recorded device gap since the previous frame, or a pause much longer than the usual interval."""
    if prev_ts is None:
        return None
    pause = (datetime.fromisoformat(ts) - datetime.fromisoformat(prev_ts)).total_seconds()
    intervals = [b["elapsed_s"] - a["elapsed_s"] for a, b in zip(history, history[1:])]
    typical = statistics.median(intervals) if intervals else None
    if gaps or (typical and pause > factor * typical):
        reasons = "; ".join(g["reason"] for g in gaps if g.get("reason")) or "no frames arrived"
        return ("camera_gap", f"no frame for {pause / 60:.1f} min before this one ({reasons})",
                {"pause_s": pause, "typical_interval_s": typical, "gaps": gaps}, frame_id)
    return None


def bad_frame(quality: str, last_quality: str, frame_id: int) -> Event | None:
    """Alert when frames stop being measurable (once per stretch, not per frame)."""
    if quality != "ok" and last_quality == "ok":
        return ("bad_frame", f"frame cannot be measured: {quality}", {"quality": quality}, frame_id)
    return None
