"""Every dashboard page through streamlit's AppTest on a seeded database (real SQLite file, real frame files):
what a chemist sees, what the forms write, and how bad input is answered."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from labloop.knowledge_base.db import make_engine
from labloop.knowledge_base.models import HumanLabel, Note, NoteRevision, Result


def rows(settings, model, *where):  # noqa: ANN001, ANN201
    engine = make_engine(settings.effective_database_url)
    with Session(engine) as s:
        out = list(s.exec(select(model).where(*where)).all())
    engine.dispose()
    return out


def texts(at) -> str:  # noqa: ANN001
    parts = [e.value for kind in ("title", "subheader", "caption", "markdown", "info", "warning", "error", "success")
             for e in getattr(at, kind)]
    return "\n".join(map(str, parts))


def images(at) -> str:  # noqa: ANN001
    """Captions (and sources) of every image on the page."""
    return "\n".join(str(i.proto) for i in at.get("image"))


def test_runs_page_lists_runs_and_shows_the_selected_run(seeded_dashboard, open_page):
    at = open_page("runs")
    assert not at.exception
    assert at.title[0].value == "Runs"
    table = at.dataframe[0].value
    assert list(table["run"]) == [2, 1] and set(table["operator"]) == {"robot", "human"}
    assert at.subheader[0].value.startswith("run 2")
    assert len(at.get("image")) == 1 and at.get("vega_lite_chart")
    at.selectbox(key="runs_operator").set_value("robot").run()
    assert list(at.dataframe[0].value["run"]) == [1]
    at.text_input(key="runs_text").set_value("no such run '; DROP TABLE run; --").run()
    assert not at.exception and "No run matches these filters" in texts(at) and "No runs recorded" not in texts(at)


def test_runs_page_on_an_empty_database_says_what_to_do(settings, open_page):
    at = open_page("runs")
    assert not at.exception and "labloop demo" in texts(at)


def test_run_detail_shows_frames_notes_and_revisions(seeded_dashboard, open_page):
    _, seeded = seeded_dashboard
    at = open_page("run_detail", run=str(seeded.run_ids[0]))
    assert not at.exception
    page = texts(at)
    assert "Lab note, robot run 1" in page and "Corrected by the chemist" in page
    assert "written by the model scripted-model" in page  # the reflection is labelled with its model
    assert "revision 2" in page
    at.slider(key="detail_frame").set_value(30).run()
    assert "frame:31 at 15.0 min" in images(at)


def test_editing_a_note_adds_a_revision_with_its_author(seeded_dashboard, open_page):
    settings, seeded = seeded_dashboard
    note_id = seeded.note_ids[0]
    at = open_page("run_detail", run=str(seeded.run_ids[0]))
    form_area = next(t for t in at.text_area if t.value.startswith("Corrected by the chemist"))
    form_area.set_value("Cloudy after 6.5 min (checked against the video).")
    at.text_input(key=f"author_{note_id}").set_value("")
    at.button[[b.label for b in at.button].index("Save revision")].click().run()
    assert "every revision records its author" in texts(at)
    assert len(rows(settings, NoteRevision, NoteRevision.note_id == note_id)) == 2
    form_area = next(t for t in at.text_area if t.value.startswith("Cloudy after 6.5") or
                     t.value.startswith("Corrected"))
    form_area.set_value("Cloudy after 6.5 min (checked against the video).")
    at.text_input(key=f"author_{note_id}").set_value("grace")
    at.button[[b.label for b in at.button].index("Save revision")].click().run()
    revs = rows(settings, NoteRevision, NoteRevision.note_id == note_id)
    assert [r.revision for r in revs] == [1, 2, 3]
    assert revs[-1].author == "grace" and revs[-1].source == "human" and revs[0].body.startswith("Water was added")


def test_results_entry_validates_and_saves(seeded_dashboard, open_page):
    settings, seeded = seeded_dashboard
    run_id = seeded.run_ids[0]
    at = open_page("run_detail", run=str(run_id))
    submit = [b.label for b in at.button].index("Add result")
    at.text_input[[t.label for t in at.text_input].index("Quantity")].set_value("particle diameter")
    at.button[submit].click().run()
    assert "Please enter a value" in texts(at)
    at.number_input[0].set_value(212.5)
    at.text_input[[t.label for t in at.text_input].index("Unit")].set_value("nm")
    at.button[submit].click().run()
    assert "needs its author" in texts(at)
    at.text_input(key="result_author").set_value("ada")
    at.button[submit].click().run()
    saved = rows(settings, Result, Result.run_id == run_id, Result.value == 212.5)
    assert len(saved) == 1 and saved[0].unit == "nm" and saved[0].author == "ada"


def test_compare_page_shows_matching_frames_curves_and_reflection(seeded_dashboard, open_page):
    _, seeded = seeded_dashboard
    at = open_page("compare", runs=",".join(map(str, seeded.run_ids)))
    assert not at.exception
    assert len(at.get("image")) == 2
    assert "The robot run turned cloudy later" in texts(at)
    at.slider(key="compare_minute").set_value(15.0).run()
    assert images(at).count("at 15.0 min") == 2


def test_compare_page_writes_a_new_reflection_without_a_model(seeded_dashboard, open_page):
    settings, seeded = seeded_dashboard
    before = len(rows(settings, Note, Note.kind == "reflection"))
    at = open_page("compare", runs=",".join(map(str, seeded.run_ids)))
    at.button(key="compare_reflect").click().run()
    assert not at.exception, at.exception
    notes = rows(settings, Note, Note.kind == "reflection")
    assert len(notes) == before + 1 and sorted([notes[-1].run_id, *notes[-1].compared_run_ids]) == seeded.run_ids
    page = texts(at)
    assert f"note:{notes[-1].id} · revision 1 · machine-generated from measurements (no model)" in page
    assert "](turbidity.png)" not in page and "turbidity of both runs" in images(at)


def test_label_page_saves_a_label_and_refuses_one_without_author(seeded_dashboard, open_page):
    settings, seeded = seeded_dashboard
    at = open_page("label", run=str(seeded.run_ids[0]))
    assert not at.exception and "frames to go" in texts(at)
    at.slider[0].set_value(3.5)
    at.button[[b.label for b in at.button].index("Save label")].click().run()
    assert "author" in texts(at)
    before = len(rows(settings, HumanLabel))
    at.slider[0].set_value(3.5)
    at.text_input(key="label_author").set_value("ada")
    at.button[[b.label for b in at.button].index("Save label")].click().run()
    labels = rows(settings, HumanLabel)
    assert len(labels) == before + 1 and labels[-1].score == 3.5 and labels[-1].author == "ada"


@pytest.mark.parametrize("query", ["toluenesulfonyl", "Cc1ccc(cc1)S(Cl)(=O)=O", "YYROPELSRYBVMQ-UHFFFAOYSA-N"])
def test_molecule_search_by_name_smiles_and_inchikey(seeded_dashboard, open_page, query):
    at = open_page("molecules", q=query)
    assert not at.exception
    page = texts(at)
    assert "p-toluenesulfonyl chloride" in page
    assert at.metric[0].value == "69 degC" and "median of 3" in at.metric[0].label
    assert "spread 4 degC" in page and "Descriptors computed by RDKit" in page
    assert set(at.dataframe[0].value["source"]) == {"source 1", "source 2", "source 3"}
    assert "structure drawn by RDKit" in images(at)
    at.button(key="mol_predict").click().run()
    assert not at.exception
    predicted = texts(at)  # the seeded promoted model is a toy whose files do not exist, and no baseline is trained
    assert "No prediction model available" in predicted and "tiny-llama-mp-1" in predicted


@pytest.mark.parametrize(("query", "message"), [
    ("C1CC((", "not a valid SMILES"), ("c1cncn1", "not a valid SMILES"), ("unobtainium oxide", "No molecule"),
    ("x" * 600, "No molecule"), ("'; DROP TABLE molecule; --", "No molecule"),
])
def test_molecule_search_bad_input(seeded_dashboard, open_page, query, message):
    at = open_page("molecules", q=query)
    assert not at.exception and message in texts(at)
    assert not (at.error and at.info), "a refused query is not also reported as 'no molecule matches'"


def test_training_page_labels_the_toy_model(seeded_dashboard, open_page):
    at = open_page("training")
    assert not at.exception
    assert "TOY model" in texts(at) and "tiny-llama-mp-1" in texts(at)
    assert len(at.dataframe) == 3


def test_chat_without_a_model_says_how_to_configure_one(seeded_dashboard, open_page):
    at = open_page("chat")
    assert not at.exception and "LABLOOP_LLM_BASE_URL" in texts(at)
