"""Runs: the list with filters, and the selected run live (latest frame, turbidity chart, events, gaps, log)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from labloop.dashboard.charts import turbidity_chart
from labloop.dashboard.common import pick_run, reading, show_frame
from labloop.knowledge_base import queries as q

LIVE_REFRESH_S = 5

st.title("Runs")
c1, c2, c3 = st.columns([1, 1, 2])
status = c1.selectbox("Status", ["any", "running", "success", "aborted", "failed"], key="runs_status")
operator = c2.selectbox("Operator", ["any", "robot", "human"], key="runs_operator")
text = c3.text_input("Name contains", max_chars=200, key="runs_text")

with reading() as s:
    runs = q.list_runs(s, status=None if status == "any" else status, operator=None if operator == "any" else operator,
                       text=text or None)

if runs:
    table = pd.DataFrame([{
        "run": r.run.id, "name": r.run.name, "operator": r.run.operator, "status": r.run.status,
        "experiment": r.experiment_name, "started (UTC)": r.run.started_at, "frames": r.n_frames,
        "open": f"/run_detail?run={r.run.id}"} for r in runs])
    st.dataframe(table, hide_index=True, column_config={"open": st.column_config.LinkColumn("detail", display_text="open")})

if not runs and (status != "any" or operator != "any" or text):
    st.info("No run matches these filters.")
    st.stop()
run_id = pick_run(runs, key="runs_pick")


@st.fragment(run_every=LIVE_REFRESH_S if runs and any(r.run.id == run_id and r.run.status == "running" for r in runs)
             else None)
def live_panel(run_id: int) -> None:
    """Re-runs on its own every few seconds while the run is live, without reloading the page."""
    with reading() as s:
        run = q.get_run(s, run_id)
        latest = q.latest_frame(s, run_id)
        points = q.turbidity_series(s, run_id)
        timeline = q.run_timeline(s, run_id, limit=200)
        log = q.device_log(s, run_id, limit=50)
    live = run.status == "running"
    st.subheader(f"run {run.id}: {run.name or run.operator} {'(live, refreshing every %d s)' % LIVE_REFRESH_S if live else ''}")
    left, right = st.columns([1, 2])
    with left:
        if latest:
            show_frame(latest.frame, f"latest frame:{latest.frame.id} at {latest.t_min:.1f} min")
            if latest.observation and latest.observation.cv_score is not None:
                st.metric("CV turbidity (computed, no model)", f"{latest.observation.cv_score:.2f} / 5")
        else:
            st.info("No frames yet.")
    with right:
        events = [(timeline.event_minutes[e.id], e.kind) for e in timeline.observer_events]
        if points:
            st.altair_chart(turbidity_chart(points, events), width="stretch")
    ev, gaps, dev = st.tabs(["Events", "Gaps", "Robot log"])
    ev.dataframe(pd.DataFrame([{"minute": round(timeline.event_minutes[e.id], 1), "kind": e.kind, "message": e.message}
                               for e in timeline.observer_events]), hide_index=True)
    gaps.dataframe(pd.DataFrame([{"device": g.device, "from": g.started_at, "to": g.ended_at, "reason": g.reason}
                                 for g in timeline.gaps]), hide_index=True)
    dev.code("\n".join(f"{e.ts:%H:%M:%S} {e.device} {e.direction} {e.payload}" for e in log) or "(no device lines)")


if run_id is not None:
    live_panel(run_id)
