"""Compare runs: frames at matching times side by side, CV curves overlaid, numbers, and the reflection
(with a button that writes a new one through the reflection writer)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from labloop.dashboard.charts import overlay_chart
from labloop.dashboard.common import engine, provenance, reading, run_label, settings, show_frame, show_note_body
from labloop.knowledge_base import queries as q

st.title("Compare runs")
with reading() as s:
    runs = q.list_runs(s, limit=1000)
if len(runs) < 2:
    st.info("Comparing needs at least two runs. Record another run, or fill a demo database with `labloop demo`.")
    st.stop()

labels = {r.run.id: run_label(r) for r in runs}
ids = list(labels)
wanted = [int(x) for x in st.query_params.get("runs", "").split(",") if x.isdigit() and int(x) in labels]
chosen = st.multiselect("Runs (2 to 4)", ids, default=wanted[:4] or ids[:2], format_func=labels.get,
                        max_selections=4, key="compare_runs")
if len(chosen) < 2:
    st.warning("Pick at least two runs.")
    st.stop()
st.query_params["runs"] = ",".join(map(str, chosen))

with reading() as s:
    stats = [q.run_stats(s, rid) for rid in chosen]
    curves = {f"run {rid}": q.turbidity_series(s, rid) for rid in chosen}
    reflections = q.reflections_for(s, chosen)

longest = max((st_.duration_min or 0.0) for st_ in stats)
minute = st.slider("Minutes since start", 0.0, max(longest, 0.1), 0.0, step=max(longest / 100, 0.1),
                   key="compare_minute")
with reading() as s:
    views = [q.frame_at(s, rid, minute) for rid in chosen]
for col, rid, view in zip(st.columns(len(chosen)), chosen, views, strict=True):
    with col:
        if view is None:
            st.info(f"run {rid} has no frames")
            continue
        o = view.observation
        score = f", CV {o.cv_score:.2f}" if o and o.cv_score is not None else ""
        show_frame(view.frame, f"run {rid} · frame:{view.frame.id} at {view.t_min:.1f} min{score}")

st.altair_chart(overlay_chart(curves), width="stretch")
st.dataframe(pd.DataFrame([{
    "run": x.run.id, "operator": x.run.operator, "parameters": str(x.run.parameters), "frames": x.n_frames,
    "duration (min)": x.duration_min, "onset (min, computed)": x.onset_min, "onset (min, observer)": x.onset_event_min,
    "max CV": x.max_cv, "results": "; ".join(f"{r.quantity} {r.value:g} {r.unit}" for r in x.results),
} for x in stats]), hide_index=True)
st.caption(f"Onset is computed as the first CV score >= {q.ONSET_SCORE} (no model).")

st.subheader("Reflection")
if reflections and reflections[0].latest:
    latest = reflections[0].latest
    st.caption(f"note:{reflections[0].note.id} · revision {latest.revision} · "
               f"{provenance(latest.source, latest.model, latest.author)} · {latest.created_at:%Y-%m-%d %H:%M} UTC")
    show_note_body(latest.body, latest.figure_paths)
else:
    st.info("No reflection compares these runs yet.")

if len(chosen) == 2:
    how = "with the language model" if settings().llm_configured else "from the records only (no model configured)"
    if st.button(f"Write a new reflection ({how})", key="compare_reflect"):
        from labloop.agents.llm_client import LLMNotConfigured
        from labloop.agents.notes.generate import WriterFailed
        from labloop.agents.notes.numbers import NoteRejected
        from labloop.agents.notes.reflection import write_reflection

        with st.spinner("Writing the reflection..."):
            try:
                written = write_reflection(engine(), settings(), chosen[0], chosen[1], author="dashboard")
            except (WriterFailed, NoteRejected, LLMNotConfigured, ValueError) as exc:
                st.error(f"No reflection was written: {exc}")
            else:
                st.success(f"Reflection note:{written.note_id} written ({written.source}).")
                st.rerun()
else:
    st.caption("A new reflection compares exactly two runs.")
