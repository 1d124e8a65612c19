"""The read queries pages and chat tools call, on SQLite and PostgreSQL, including malformed input."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session

from labloop.knowledge_base import queries as q
from labloop.knowledge_base.chem import InvalidSmiles
from tests.dashboard.seed import seed


@pytest.fixture
def seeded_session(engine, tmp_path: Path):  # noqa: ANN001, ANN201
    seed(engine, tmp_path / "frames")
    with Session(engine) as s:
        yield s


def test_runs_filters_and_counts(seeded_session):
    s = seeded_session
    assert [r.run.id for r in q.list_runs(s)] == [2, 1]
    assert [r.run.id for r in q.list_runs(s, operator="robot")] == [1]
    assert q.list_runs(s, text="HUMAN")[0].n_frames == 60
    assert q.list_runs(s, text="%") == [] and q.list_runs(s, text="_") == [] and q.list_runs(s, text="\\") == []
    assert [r.run.id for r in q.list_runs(s, text="n 1")] == [1]
    assert q.list_runs(s, status="failed") == []


def test_series_stats_and_frames(seeded_session):
    s = seeded_session
    points = q.turbidity_series(s, 1)
    assert len(points) == 60 and points[0].t_min == 0.0 and points[-1].t_min == 29.5
    assert sum(p.llm_score is not None for p in points) == 6 and sum(p.n_labels for p in points) == 4
    stats = q.run_stats(s, 1)
    assert stats.onset_min == 7.0 and stats.onset_event_min == 7.0 and stats.results[0].value == 180.0
    assert q.frame_at(s, 1, 1e9).frame.seq == 59 and q.latest_frame(s, 1).frame.seq == 59
    assert len(q.frames_to_label(s, 1)) == 56
    assert len(q.run_timeline(s, 1).gaps) == 1


def test_notes_and_reflections(seeded_session):
    s = seeded_session
    notes = q.run_notes(s, 1)
    assert [n.note.kind for n in notes] == ["lab_note", "reflection"]
    assert [r.revision for r in notes[0].revisions] == [1, 2] and notes[0].latest.author == "dr. ada"
    assert q.reflections_for(s, [1, 2])[0].note.title == "Robot vs human"
    assert q.reflections_for(s, [1, 3]) == []


@pytest.mark.parametrize("call", [
    lambda s: q.get_run(s, 999), lambda s: q.turbidity_series(s, -1), lambda s: q.run_notes(s, 10**12), lambda s: q.get_run(s, True), lambda s: q.get_note(s, 2**31),
    lambda s: q.frame_view(s, 999999), lambda s: q.molecule_detail(s, 0), lambda s: q.run_stats(s, 999),
])
def test_unknown_ids_raise_record_not_found(seeded_session, call):
    with pytest.raises(q.RecordNotFound, match="there is no"):
        call(seeded_session)


def test_molecule_search_input(seeded_session):
    s = seeded_session
    assert q.search_molecules(s, "") == [] and q.search_molecules(s, "   ") == []
    assert q.search_molecules(s, "BENZOIC")[0].name == "benzoic acid"
    assert q.search_molecules(s, "ufwibtonfrdias-uhfffaoysa-n")[0].name == "naphthalene"
    assert q.search_molecules(s, "OC(=O)c1ccccc1")[0].name == "benzoic acid"
    assert q.search_molecules(s, "c1ccccc1") == []  # valid SMILES, not stored
    assert q.search_molecules(s, "no such compound") == []
    for wildcard in ("acid%", "benzoic_acid", "%"):  # LIKE wildcards are literal: no match, then not a SMILES
        with pytest.raises(InvalidSmiles):
            q.search_molecules(s, wildcard)
    with pytest.raises(InvalidSmiles):
        q.search_molecules(s, "C1CC((")
    with pytest.raises(ValueError, match="at most 500"):
        q.search_molecules(s, "C" * 501)
