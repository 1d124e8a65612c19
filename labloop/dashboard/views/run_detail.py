"""Run detail: frames with a time slider, notes with their revisions (editing adds a revision), results entry,
timeline, and exports (Markdown, printable HTML, observations CSV, .eln)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from labloop.dashboard.charts import turbidity_chart
from labloop.dashboard.common import (
    pick_run,
    provenance,
    reading,
    settings,
    show_frame,
    show_frame_scores,
    show_note_body,
    writing,
)
from labloop.knowledge_base import exports
from labloop.knowledge_base import queries as q
from labloop.knowledge_base.observations import add_revision
from labloop.knowledge_base.results import ResultError, add_result

THUMBS = 6

st.title("Run detail")
with reading() as s:
    runs = q.list_runs(s, limit=1000)
run_id = pick_run(runs, key="detail_pick")
if run_id is None:
    st.stop()

with reading() as s:
    run = q.get_run(s, run_id)
    points = q.turbidity_series(s, run_id)
    notes = q.run_notes(s, run_id)
    results = q.run_results(s, run_id)
    timeline = q.run_timeline(s, run_id)

st.caption(f"{run.operator} · {run.status} {run.exit_reason} · started {run.started_at:%Y-%m-%d %H:%M} UTC · "
           f"parameters {run.parameters}")
tab_frames, tab_notes, tab_results, tab_timeline, tab_export = st.tabs(
    ["Frames", f"Notes ({len(notes)})", f"Results ({len(results)})", "Timeline", "Export"])

with tab_frames:
    if not points:
        st.info("This run has no frames.")
    else:
        last = max(len(points) - 1, 1)
        seq_index = st.slider("Time (frame)", 0, last, 0, key="detail_frame",
                              format="frame %d") if len(points) > 1 else 0
        point = points[seq_index]
        with reading() as s:
            view = q.frame_view(s, point.frame_id)
        left, right = st.columns([1, 2])
        with left:
            show_frame(view.frame, f"frame:{view.frame.id} at {view.t_min:.1f} min")
            show_frame_scores(view, with_haze=True)
        with right:
            st.altair_chart(turbidity_chart(points), width="stretch")
        around = points[max(0, seq_index - THUMBS // 2): max(0, seq_index - THUMBS // 2) + THUMBS]
        with reading() as s:
            thumbs = [q.frame_view(s, p.frame_id) for p in around]
        for col, v in zip(st.columns(THUMBS), thumbs, strict=False):
            with col:
                show_frame(v.frame, f"{v.t_min:.1f} min")

with tab_notes:
    if not notes:
        st.info("No notes on this run yet. The observer writes one when a run ends (`labloop note RUN`).")
    for view in notes:
        latest = view.latest
        st.subheader(f"{view.note.kind.replace('_', ' ')} note:{view.note.id} · {view.note.title}")
        if latest is None:
            continue
        st.caption(f"revision {latest.revision} · {provenance(latest.source, latest.model, latest.author)} · "
                   f"{latest.created_at:%Y-%m-%d %H:%M} UTC")
        show_note_body(latest.body, latest.figure_paths)
        with st.expander(f"All {len(view.revisions)} revisions"):
            for rev in reversed(view.revisions):
                st.markdown(f"**revision {rev.revision}** · {provenance(rev.source, rev.model, rev.author)} · "
                            f"{rev.created_at:%Y-%m-%d %H:%M} UTC")
                st.text(rev.body)
        with st.form(f"edit_{view.note.id}"):
            body = st.text_area("Edit (saved as a new revision; earlier ones are kept)", latest.body, height=160)
            author = st.text_input("Your name", key=f"author_{view.note.id}", max_chars=100)
            if st.form_submit_button("Save revision"):
                if not author.strip():
                    st.error("Please give your name: every revision records its author.")
                elif not body.strip():
                    st.error("An empty note cannot be saved.")
                elif body == latest.body:
                    st.info("Nothing changed.")
                else:
                    with writing() as s:
                        add_revision(s, note_id=view.note.id, body=body, author=author.strip())
                    st.success("Saved as a new revision.")
                    st.rerun()

with tab_results:
    if results:
        st.dataframe(pd.DataFrame([{"result": f"result:{r.id}", "quantity": r.quantity, "value": r.value,
                                    "unit": r.unit, "method": r.method, "author": r.author,
                                    "recorded (UTC)": r.created_at} for r in results]), hide_index=True)
    with st.form("add_result"):
        c1, c2, c3 = st.columns(3)
        quantity = c1.text_input("Quantity", placeholder="particle diameter", max_chars=200)
        value = c2.number_input("Value", value=None, format="%.4g")
        unit = c3.text_input("Unit", placeholder="nm", max_chars=50)
        c4, c5 = st.columns(2)
        method = c4.text_input("Method", placeholder="SEM", max_chars=200)
        author = c5.text_input("Your name", key="result_author", max_chars=100)
        if st.form_submit_button("Add result"):
            if value is None:
                st.error("Please enter a value.")
            else:
                try:
                    with writing() as s:
                        add_result(s, run_id=run_id, quantity=quantity, value=value, unit=unit, method=method,
                                   author=author)
                except ResultError as exc:
                    st.error(str(exc))
                else:
                    st.success("Result saved.")
                    st.rerun()

with tab_timeline:
    minute = lambda ts: round((ts - run.started_at).total_seconds() / 60, 2)  # noqa: E731
    rows = [{"minute": minute(e.ts), "what": f"{e.device} {e.kind}", "detail": e.payload} for e in timeline.dispenses]
    rows += [{"minute": round(timeline.event_minutes[e.id], 2), "what": f"observer {e.kind}", "detail": e.message}
             for e in timeline.observer_events]
    rows += [{"minute": minute(g.started_at), "what": f"gap ({g.device})", "detail": f"{g.reason}; until {g.ended_at}"}
             for g in timeline.gaps]
    st.dataframe(pd.DataFrame(rows).sort_values("minute") if rows else pd.DataFrame(), hide_index=True)

with tab_export:
    st.write("Download this run's record in the formats labs use.")
    with reading() as s:
        doc = exports.build_document(s, run_id)
        md, html = exports.render_markdown(doc), exports.render_html(doc)
        csv = exports.observations_csv(s, run_id)
    c1, c2, c3, c4 = st.columns(4)
    c1.download_button("Lab note (Markdown)", md, f"run-{run_id}-note.md", "text/markdown")
    c2.download_button("Lab note (printable HTML)", html, f"run-{run_id}-note.html", "text/html")
    c3.download_button("Observations (CSV)", csv, f"run-{run_id}-observations.csv", "text/csv")
    if c4.button("Prepare .eln archive"):
        with reading() as s:
            data = exports.eln_archive(s, [run_id], frames_dir=settings().frames_dir)
        c4.download_button("Download .eln", data, f"run-{run_id}.eln", "application/zip")
