"""Training (read-only): corpus builds, training runs with metrics, and the model registry with the promoted
model. Toy models are labelled as toys."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from labloop.dashboard.common import reading
from labloop.knowledge_base import queries as q

st.title("Training")
with reading() as s:
    t = q.training_overview(s)

promoted = t.promoted
if promoted:
    toy = " — a TOY model (tiny, CPU-trained): not for real predictions" if promoted.toy else ""
    st.success(f"Promoted model: **{promoted.name}** (model_version:{promoted.id}, base {promoted.base_model}, "
               f"{promoted.kind}){toy}")
    if promoted.metrics:
        cols = st.columns(min(len(promoted.metrics), 6))
        for col, (k, v) in zip(cols, list(promoted.metrics.items())[:6], strict=False):
            col.metric(k, f"{v:.3g}" if isinstance(v, float) else str(v))
else:
    st.info("No model is promoted yet. Train one with `labloop train`, then `labloop evaluate` and promote it.")

st.subheader("Model versions")
st.dataframe(pd.DataFrame([{
    "id": m.id, "name": m.name, "base": m.base_model, "kind": m.kind, "toy": m.toy, "promoted": m.promoted,
    "created (UTC)": m.created_at, "metrics": str(m.metrics)} for m in t.model_versions]), hide_index=True)
st.subheader("Training runs")
st.dataframe(pd.DataFrame([{
    "id": r.id, "base": r.base_model, "corpus": r.corpus_build_id, "toy": r.toy, "status": r.status,
    "started (UTC)": r.started_at, "finished (UTC)": r.finished_at, "metrics": str(r.metrics)}
    for r in t.training_runs]), hide_index=True)
st.subheader("Corpus builds")
st.dataframe(pd.DataFrame([{
    "id": b.id, "status": b.status, "generator": b.generator_model, "out_dir": b.out_dir,
    "created (UTC)": b.created_at, "manifest": str(b.manifest)[:200]} for b in t.corpus_builds]), hide_index=True)
