"""Label frames: a chemist scores frames 0 (clear) to 5 (opaque); labels calibrate the CV score and appear
on the charts. Labels are added, never overwritten."""

from __future__ import annotations

import streamlit as st

from labloop.dashboard.common import pick_run, reading, show_frame, show_frame_scores, writing
from labloop.knowledge_base import queries as q
from labloop.knowledge_base.observations import LabelError, add_human_label

st.title("Label frames")
with reading() as s:
    runs = q.list_runs(s, limit=1000)
run_id = pick_run(runs, key="label_pick")
if run_id is None:
    st.stop()

unlabelled_only = st.toggle("Only frames without a label", value=True, key="label_unlabelled")
with reading() as s:
    frames = q.frames_to_label(s, run_id, unlabelled_only=unlabelled_only)
if not frames:
    st.success("Every frame of this run has a label.")
    st.stop()

cursor_key = f"label_cursor_{run_id}"
cursor = min(st.session_state.get(cursor_key, 0), len(frames) - 1)
frame = frames[cursor]
with reading() as s:
    view = q.frame_view(s, frame.id)
st.caption(f"{len(frames)} frames to go · frame {cursor + 1} of {len(frames)}")
left, right = st.columns([2, 1])
with left:
    show_frame(frame, f"frame:{frame.id} at {view.t_min:.1f} min")
with right:
    with st.form("label_form", clear_on_submit=False):
        score = st.slider("Turbidity: 0 clear, 5 opaque", 0.0, 5.0, 0.0, step=0.5)
        author = st.text_input("Your name", key="label_author", max_chars=100)
        comment = st.text_input("Comment (optional)", max_chars=500)
        save = st.form_submit_button("Save label")
    if save:
        try:
            with writing() as s:
                add_human_label(s, frame_id=frame.id, score=score, author=author, comment=comment)
        except LabelError as exc:
            st.error(str(exc))
        else:
            st.session_state[cursor_key] = cursor if unlabelled_only else cursor + 1
            st.success(f"Saved {score} for frame:{frame.id}.")
            st.rerun()
    if st.button("Skip this frame", key="label_skip"):
        st.session_state[cursor_key] = (cursor + 1) % len(frames)
        st.rerun()
    with st.expander("What the machine said (after you decide)"):
        show_frame_scores(view, label_word="label")
