"""Molecules: search by name, SMILES or InChIKey; structure drawn by RDKit; measurements with sources and
spread; predictions, each labelled with the model that made it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from labloop.agents.chat.molecules import descriptors, predictions
from labloop.dashboard.common import engine, reading, settings
from labloop.knowledge_base import queries as q
from labloop.knowledge_base.chem import InvalidSmiles


def structure_svg(smiles: str) -> str:
    from rdkit import Chem
    from rdkit.Chem.Draw import rdMolDraw2D

    drawer = rdMolDraw2D.MolDraw2DSVG(320, 240)
    drawer.DrawMolecule(Chem.MolFromSmiles(smiles))
    drawer.FinishDrawing()
    return drawer.GetDrawingText()


st.title("Molecules")
query = st.text_input("Name, SMILES or InChIKey", value=st.query_params.get("q", ""), max_chars=q.MAX_SEARCH_CHARS,
                      placeholder="p-toluenesulfonyl chloride, Cc1ccc(cc1)S(Cl)(=O)=O, YYROPELSRYBVMQ-UHFFFAOYSA-N",
                      key="mol_query")
found, refused = [], False
if query.strip():
    st.query_params["q"] = query
    with reading() as s:
        try:
            found = q.search_molecules(s, query)
        except InvalidSmiles as exc:
            st.error(f"{query!r} is not a known name and not a valid SMILES: {exc}")
            refused = True
        except ValueError as exc:
            st.error(str(exc))
            refused = True
    if not found and not refused:
        st.info("No molecule matches. Import measurements with `labloop kb import-molecules`.")
elif (wanted := st.query_params.get("molecule", "")).isdigit():
    with reading() as s:
        try:
            found = [q.molecule_detail(s, int(wanted)).molecule]
        except q.RecordNotFound as exc:
            st.error(str(exc))
if not found:
    st.stop()

names = {m.id: f"{m.name or m.smiles} (molecule:{m.id})" for m in found}
mol_id = st.selectbox("Match", list(names), format_func=names.get, key="mol_pick") if len(found) > 1 else found[0].id
with reading() as s:
    detail = q.molecule_detail(s, mol_id)
m = detail.molecule

left, right = st.columns([1, 2])
with left:
    st.image(structure_svg(m.smiles), caption="structure drawn by RDKit")
with right:
    st.subheader(m.name or m.smiles)
    st.code(f"SMILES    {m.smiles}\nInChIKey  {m.inchikey}", language=None)
    if len(detail.names) > 1:
        st.caption("Also known as: " + "; ".join(detail.names[:12]))
    st.caption("Descriptors computed by RDKit (no model)")
    st.json(descriptors(m.smiles), expanded=False)

st.subheader("Measured")
for c in detail.consensus:
    st.metric(f"{c.property.replace('_', ' ')} (median of {c.n_measurements})", f"{c.value:g} {c.unit}",
              help="the median of every recorded measurement of this structure")
    st.caption(f"range {c.min_value:g} to {c.max_value:g} {c.unit} (spread {c.max_value - c.min_value:g} {c.unit}) "
               f"over {c.n_measurements} measurements")
if detail.measurements:
    st.dataframe(pd.DataFrame([{"measurement": f"measurement:{p.id}", "property": p.property, "value": p.value,
                                "unit": p.unit, "source": p.source, "dataset": p.dataset, "link": p.link}
                               for p in detail.measurements]), hide_index=True)
else:
    st.info("No measurements recorded for this molecule.")

st.subheader("Predicted")
if not st.button("Predict the melting point", key="mol_predict",
                 help="Runs the promoted model (when there is one) and the random-forest baseline."):
    st.stop()
with st.spinner("Predicting..."):
    pred = predictions(engine(), settings(), m.smiles)
if pred["predictions"]:
    st.dataframe(pd.DataFrame([{"model": p["label"], "value": p["value"], "unit": p["unit"],
                                "toy model": "yes (not for real use)" if p["toy"] else "no"}
                               for p in pred["predictions"]]), hide_index=True)
else:
    st.info(pred["note"][0].upper() + pred["note"][1:])
