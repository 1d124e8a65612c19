"""Exports of a run: Markdown and printable HTML lab notes, observations CSV (safe against formula injection)
and the .eln RO-Crate archive, checked file by file against its metadata. SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from sqlmodel import Session, select

from labloop.knowledge_base import exports
from labloop.knowledge_base.models import Observation
from labloop.knowledge_base.queries import RecordNotFound
from tests.dashboard.seed import seed


@pytest.fixture
def seeded_engine(engine, tmp_path: Path):  # noqa: ANN001, ANN201
    out = seed(engine, tmp_path / "frames")
    return engine, out, tmp_path / "frames"


def test_markdown_note_says_who_wrote_what(seeded_engine):
    engine, seeded, _ = seeded_engine
    with Session(engine) as s:
        md = exports.lab_note_markdown(s, seeded.run_ids[0])
    assert md.startswith("# Run 1: robot run 1")
    assert "written by dr. ada" in md and "written by the model scripted-model" in md
    assert "Onset (first CV score >= 1.0, computed): 7.0 min" in md
    assert "| particle diameter | 180.0 | nm | SEM |" in md.replace("result:1 | ", "")


def test_html_note_is_self_contained_and_escaped(seeded_engine):
    engine, seeded, _ = seeded_engine
    with Session(engine) as s:
        page = exports.lab_note_html(s, seeded.run_ids[-1])
    assert page.startswith("<!DOCTYPE html>") and "@media print" in page
    assert 'src="data:image/png;base64,' in page and "http" not in page.split("<body>")[1].split("creativecommons")[0]
    assert "<script" not in page


def test_html_escapes_note_text(seeded_engine):
    engine, seeded, _ = seeded_engine
    from labloop.knowledge_base.observations import add_revision

    with Session(engine) as s:
        add_revision(s, note_id=seeded.note_ids[0], body="<script>alert(1)</script> & done", author="mallory")
        s.commit()
        page = exports.lab_note_html(s, seeded.run_ids[0])
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; done" in page


def test_observations_csv_round_trips_and_defuses_formulas(seeded_engine):
    engine, seeded, _ = seeded_engine
    with Session(engine) as s:
        obs = s.get(Observation, 1)
        obs.llm_note = '=HYPERLINK("http://evil","click")'
        s.add(obs)
        s.commit()
        text = exports.observations_csv(s, seeded.run_ids[0])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 60 and list(rows[0]) == exports.CSV_COLUMNS
    assert rows[0]["llm_note"].startswith("'=HYPERLINK")
    assert float(rows[30]["cv_score"]) > float(rows[0]["cv_score"])
    assert rows[0]["human_score"] == "0.0" and rows[1]["human_score"] == ""


def test_eln_archive_lists_every_file_with_size_and_hash(seeded_engine):
    engine, seeded, frames = seeded_engine
    with Session(engine) as s:
        data = exports.eln_archive(s, seeded.run_ids, frames_dir=frames)
    zf = zipfile.ZipFile(io.BytesIO(data))
    names = zf.namelist()
    root = {n.split("/")[0] for n in names}
    assert len(root) == 1
    (top,) = root
    meta = json.loads(zf.read(f"{top}/ro-crate-metadata.json"))
    graph = {e["@id"]: e for e in meta["@graph"]}
    assert graph["ro-crate-metadata.json"]["conformsTo"]["@id"] == "https://w3id.org/ro/crate/1.1"
    assert [p["@id"] for p in graph["./"]["hasPart"]] == ["./run-1/", "./run-2/"]
    files = [e for e in graph.values() if e["@type"] == "File"]
    assert {f"{top}/{f['@id'][2:]}" for f in files} | {f"{top}/ro-crate-metadata.json"} == set(names)
    for f in files:
        content = zf.read(f"{top}/{f['@id'][2:]}")
        assert int(f["contentSize"]) == len(content) and f["sha256"] == hashlib.sha256(content).hexdigest()
    run1 = graph["./run-1/"]
    assert any(p["@id"].endswith(".png") and "frame-first" in p["@id"] for p in run1["hasPart"])
    assert graph[run1["variableMeasured"][0]["@id"]]["propertyID"] == "particle diameter"
    for part in run1["hasPart"]:
        assert part["@id"] in graph


def test_exports_of_unknown_runs_fail_clearly(seeded_engine):
    engine, _, _ = seeded_engine
    with Session(engine) as s:
        for export in (exports.lab_note_markdown, exports.lab_note_html, exports.observations_csv):
            with pytest.raises(RecordNotFound, match="no run with id 999"):
                export(s, 999)
        with pytest.raises(RecordNotFound):
            exports.eln_archive(s, [1, 999])
        with pytest.raises(ValueError, match="no runs"):
            exports.eln_archive(s, [])


def test_eln_archive_of_a_run_named_twice_has_unique_ids(seeded_engine):
    engine, seeded, _ = seeded_engine
    run = seeded.run_ids[0]
    with Session(engine) as s:
        data = exports.eln_archive(s, [run, run])
    zf = zipfile.ZipFile(io.BytesIO(data))
    (meta_name,) = [n for n in zf.namelist() if n.endswith("ro-crate-metadata.json")]
    ids = [e["@id"] for e in json.loads(zf.read(meta_name))["@graph"]]
    assert len(ids) == len(set(ids)) and f"./run-{run}/" in ids
    assert len(zf.namelist()) == len(set(zf.namelist()))


def test_html_note_renders_the_notes_markdown(seeded_engine):
    engine, seeded, _ = seeded_engine
    from labloop.knowledge_base.observations import add_revision

    body = ("# Note\n\n## Setup\n- 20 mL acetone\n\n| t | CV |\n|---|---|\n| 0:05 | 1.2 |\n\n"
            "![turbidity](turbidity.png)\n\n<b>raw</b> [x](javascript:alert(1))")
    with Session(engine) as s:
        add_revision(s, note_id=seeded.note_ids[0], body=body, author="dr. ada")
        s.commit()
        page = exports.lab_note_html(s, seeded.run_ids[0])
        md = exports.lab_note_markdown(s, seeded.run_ids[0])
    assert "<h4>Setup</h4>" in page and "<li>20 mL acetone</li>" in page and "<td>0:05</td>" in page
    assert "## Setup" not in page and "|---|" not in page and "turbidity.png" not in page
    assert "&lt;b&gt;raw&lt;/b&gt;" in page and 'href="javascript' not in page
    assert body in md


def test_note_headings_do_not_repeat_their_kind(seeded_engine):
    from labloop.knowledge_base.models import Note

    engine, seeded, _ = seeded_engine
    with Session(engine) as s:
        note = s.exec(select(Note).order_by(Note.id)).first()
        note.title = f"Lab note: {note.title or 'run 1'}"
        s.add(note)
        s.commit()
        md = exports.lab_note_markdown(s, note.run_id)
    assert "Lab note: Lab note:" not in md and "Reflection: Reflection:" not in md
    assert f"## {note.title}" in md
