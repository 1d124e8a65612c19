"""Altair charts of turbidity over time: CV (line), LLM and human scores (points), observer events (rules)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from labloop.knowledge_base.queries import SeriesPoint

SCORE_SCALE = alt.Scale(domain=[0, 5])


def series_frame(points: list[SeriesPoint], run_label: str = "") -> pd.DataFrame:
    rows = []
    for p in points:
        if p.cv_score is not None:
            rows.append({"t_min": p.t_min, "score": p.cv_score, "kind": "CV (computed, no model)", "frame": p.frame_id,
                         "run": run_label})
        if p.llm_score is not None:
            rows.append({"t_min": p.t_min, "score": p.llm_score, "kind": f"LLM ({p.llm_model})", "frame": p.frame_id,
                         "run": run_label})
        if p.human_score is not None:
            rows.append({"t_min": p.t_min, "score": p.human_score, "kind": "human label", "frame": p.frame_id,
                         "run": run_label})
    return pd.DataFrame(rows, columns=["t_min", "score", "kind", "frame", "run"])


def turbidity_chart(points: list[SeriesPoint], event_minutes: list[tuple[float, str]] = ()) -> alt.Chart:
    data = series_frame(points)
    x = alt.X("t_min:Q", title="minutes since start")
    y = alt.Y("score:Q", title="turbidity (0 clear - 5 opaque)", scale=SCORE_SCALE)
    tooltip = ["t_min:Q", "score:Q", "kind:N", "frame:Q"]
    color = alt.Color("kind:N", title=None, legend=alt.Legend(orient="bottom"))
    base = alt.Chart(data)
    line = base.transform_filter(alt.datum.kind == "CV (computed, no model)").mark_line().encode(x, y, color, tooltip=tooltip)
    dots = base.transform_filter(alt.datum.kind != "CV (computed, no model)").mark_point(filled=True, size=60).encode(
        x, y, color, alt.Shape("kind:N", legend=None), tooltip=tooltip)
    layers = [line, dots]
    if event_minutes:
        events = pd.DataFrame([{"t_min": t, "event": k} for t, k in event_minutes])
        layers.append(alt.Chart(events).mark_rule(strokeDash=[4, 4], color="gray").encode(
            x="t_min:Q", tooltip=["event:N", "t_min:Q"]))
    return alt.layer(*layers).properties(height=280)


def overlay_chart(curves: dict[str, list[SeriesPoint]]) -> alt.Chart:
    """CV curves of several runs on one time axis (computed, no model)."""
    data = pd.concat([series_frame(points, label) for label, points in curves.items()], ignore_index=True)
    data = data[data["kind"] == "CV (computed, no model)"]
    return alt.Chart(data).mark_line().encode(
        alt.X("t_min:Q", title="minutes since start"),
        alt.Y("score:Q", title="CV turbidity (computed, no model)", scale=SCORE_SCALE),
        alt.Color("run:N", title=None, legend=alt.Legend(orient="bottom")),
        tooltip=["run:N", "t_min:Q", "score:Q", "frame:Q"],
    ).properties(height=280)
