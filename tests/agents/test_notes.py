"""Lab notes and reflections: template notes offline, LLM notes through the scripted server, the number
check refusing invented values, append-only revisions, and the CLI."""

from __future__ import annotations

import subprocess
import sys

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from labloop.agents.notes.generate import WriterFailed
from labloop.agents.notes.numbers import AllowedNumbers, NoteRejected, unsupported_numbers
from labloop.agents.notes.reflection import write_reflection
from labloop.agents.notes.writer import write_lab_note
from labloop.agents.observer.runner import observe_run
from labloop.knowledge_base import observations as kb
from labloop.knowledge_base.db import get_engine, session_scope
from labloop.knowledge_base.models import Result
from tests.agents.recorded import record_run, turbidity_curve
from tests.support.openai_server import Reply


def _observed_run(engine, settings, **kwargs) -> int:
    run_id = record_run(engine, settings, turbidity_curve(30, 12), **kwargs)
    observe_run(engine, settings, run_id, checkpointer=InMemorySaver())
    return run_id


def _llm(settings, server):
    return settings.model_copy(update={"llm_base_url": server.base_url, "llm_model": "scripted-writer",
                                       "llm_max_retries": 1})


def test_number_check_matches_rounding_times_and_dates() -> None:
    allowed = AllowedNumbers()
    allowed.add(2.4567, 12)
    allowed.add_tokens("1:45", "2024-05-01")
    allowed.add_text("0.2 mmol PMDA in 20 mL acetone")
    text = "Score 2.46 (2.5, 2) at 1:45 on 2024-05-01; 12 frames; 0.2 mmol in 20 mL; scale 0 to 5; sha256 ok."
    assert unsupported_numbers(text, allowed) == []
    assert unsupported_numbers("score 2.47 at 1:50 on 2024-05-02, 13 frames, 3.0 h", allowed) == \
        ["2.47", "1:50", "2024-05-02", "13", "3.0"]


def test_offline_note_is_a_checked_template_with_table_and_plot(engine, settings) -> None:
    run_id = _observed_run(engine, settings)
    written = write_lab_note(engine, settings, run_id, use_llm=False)
    body = written.markdown_path.read_text()
    assert written.source == "template" and "without a language model" in body
    assert "| time (h:mm) | CV score |" in body and "turbidity onset" in body
    assert written.figure_paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert unsupported_numbers(body, _allowed(engine, run_id)) == []
    with session_scope(engine) as session:
        note = kb.notes_for_run(session, run_id, "lab_note")[0]
        revision = kb.latest_revision(session, note.id)
        assert revision.source == "template" and revision.model is None and revision.body == body


def _allowed(engine, run_id):
    from labloop.agents.notes.records import load_run_record

    with session_scope(engine) as session:
        return load_run_record(session, run_id).allowed_numbers()


def test_rewriting_a_note_appends_a_revision(sqlite_engine, settings) -> None:
    run_id = _observed_run(sqlite_engine, settings)
    first = write_lab_note(sqlite_engine, settings, run_id, use_llm=False)
    second = write_lab_note(sqlite_engine, settings, run_id, use_llm=False, author="ada")
    assert second.note_id == first.note_id and (first.revision, second.revision) == (1, 2)
    with session_scope(sqlite_engine) as session:
        history = kb.revisions(session, first.note_id)
    assert [r.revision for r in history] == [1, 2] and history[1].author == "ada"


def test_llm_note_with_provenance(sqlite_engine, settings, openai_server) -> None:
    run_id = _observed_run(sqlite_engine, settings)
    openai_server.enqueue(Reply.text("## Observations\nThe mixture stayed clear, then turned milky; the onset was "
                                     "detected at 1:05 with a CV score of 1.00."))
    written = write_lab_note(sqlite_engine, _llm(settings, openai_server), run_id)
    assert written.source == "llm" and written.model == "scripted-writer"
    assert "language model `scripted-writer`" in written.body
    with session_scope(sqlite_engine) as session:
        revision = kb.latest_revision(session, written.note_id)
    assert revision.prompt_hash and revision.input_hashes and revision.prompt_tokens > 0


def test_llm_note_inventing_a_number_is_regenerated(sqlite_engine, settings, openai_server) -> None:
    run_id = _observed_run(sqlite_engine, settings)
    openai_server.enqueue(Reply.text("The onset was at 3:17 and the score reached 4.9."),
                          Reply.text("The mixture turned milky after the onset."))
    written = write_lab_note(sqlite_engine, _llm(settings, openai_server), run_id)
    assert "3:17" not in written.body
    retry = openai_server.requests[1]["messages"][-1]["content"]
    assert "3:17" in retry and "4.9" in retry


def test_llm_note_that_keeps_inventing_is_refused_and_not_saved(sqlite_engine, settings, openai_server) -> None:
    run_id = _observed_run(sqlite_engine, settings)
    openai_server.handler = lambda request: Reply.text("At 25:61 the score was 9.75 and 42 particles formed.")
    with pytest.raises(NoteRejected, match="25:61"):
        write_lab_note(sqlite_engine, _llm(settings, openai_server), run_id)
    with session_scope(sqlite_engine) as session:
        assert kb.notes_for_run(session, run_id) == []


def test_llm_endpoint_down_is_a_clear_failure(sqlite_engine, settings, openai_server) -> None:
    run_id = _observed_run(sqlite_engine, settings)
    openai_server.handler = lambda request: Reply.error(500)
    with pytest.raises(WriterFailed, match="HTTP 500"):
        write_lab_note(sqlite_engine, _llm(settings, openai_server), run_id)


def test_reflection_mentions_placement_and_results(engine, settings) -> None:
    robot = _observed_run(engine, settings, roi=(130, 60, 100, 150))
    human = _observed_run(engine, settings, operator="human")
    with session_scope(engine) as session:
        session.add(Result(run_id=robot, quantity="particle diameter", value=0.4, unit="µm", method="SEM"))
        session.add(Result(run_id=human, quantity="particle diameter", value=0.5, unit="µm", method="SEM"))
    written = write_reflection(engine, settings, robot, human, use_llm=False)
    assert "placement offset of 20 px" in written.body and "off-centre" in written.body
    assert "0.4 µm" in written.body and "0.5 µm" in written.body
    assert [p.name for p in written.figure_paths] == ["turbidity.png", "side-by-side.png"]
    with session_scope(engine) as session:
        assert kb.notes_for_run(session, human, "reflection")[0].compared_run_ids == [human]


def test_llm_reflection_gets_the_side_by_side_image(sqlite_engine, settings, openai_server) -> None:
    robot = _observed_run(sqlite_engine, settings, roi=(130, 60, 100, 150))
    human = _observed_run(sqlite_engine, settings, operator="human")
    openai_server.enqueue(Reply.text("The robot's vial sat 20 px off the human's position; uneven stirring "
                                     "probably explains the difference."))
    written = write_reflection(sqlite_engine, _llm(settings, openai_server), robot, human)
    content = openai_server.requests[0]["messages"][1]["content"]
    assert written.source == "llm" and any(p["type"] == "image_url" for p in content)


def test_reflection_of_a_run_with_itself_or_a_missing_run_is_refused(sqlite_engine, settings) -> None:
    run_id = _observed_run(sqlite_engine, settings)
    with pytest.raises(ValueError, match="two different runs"):
        write_reflection(sqlite_engine, settings, run_id, run_id)
    with pytest.raises(LookupError, match="does not exist"):
        write_reflection(sqlite_engine, settings, run_id, 404)


def test_cli_note_and_reflect(settings) -> None:
    engine = get_engine(settings)
    a, b = _observed_run(engine, settings), _observed_run(engine, settings, operator="human")
    run = lambda *args: subprocess.run([sys.executable, "-m", "labloop", *args], capture_output=True, text=True)  # noqa: E731
    out = run("note", str(a))
    assert out.returncode == 0 and "template (no language model)" in out.stdout
    out = run("reflect", str(a), str(b))
    assert out.returncode == 0 and "reflection" in out.stdout
    out = run("note", "999")
    assert out.returncode == 1 and "does not exist" in out.stderr and "Traceback" not in out.stderr


def test_template_note_of_an_aborted_run_with_a_gap_passes_its_own_number_check(sqlite_engine, settings) -> None:
    from datetime import timedelta

    from labloop.knowledge_base.models import Run
    from labloop.knowledge_base.runs import close_gap, open_gap
    from tests.agents.recorded import START

    run_id = _observed_run(sqlite_engine, settings)
    with session_scope(sqlite_engine) as session:
        session.get(Run, run_id).exit_reason = "stopped on request after 37 frames"
        gap = open_gap(session, run_id, device="camera", reason="camera '7' returned no frame for 30 s",
                       started_at=START + timedelta(minutes=47))
        close_gap(session, gap.id, ended_at=START + timedelta(minutes=52))
    written = write_lab_note(sqlite_engine, settings, run_id, use_llm=False)
    assert "after 37 frames" in written.body and "gap in camera at 0:47" in written.body


def test_unknown_run_points_to_a_command_that_exists(sqlite_engine, settings) -> None:
    with pytest.raises(LookupError, match="does not exist") as info:
        write_lab_note(sqlite_engine, settings, 404)
    assert "labloop runs" not in str(info.value) and "labloop dashboard" in str(info.value)


def test_note_of_a_run_still_recording_says_so(sqlite_engine, settings) -> None:
    from labloop.knowledge_base.models import RunStatus

    run_id = record_run(sqlite_engine, settings, turbidity_curve(6, 3), status=RunStatus.running)
    written = write_lab_note(sqlite_engine, settings, run_id, use_llm=False)
    assert "still running when this note was written; status running" in written.body
    assert "stopped still" not in written.body


def test_reflection_does_not_report_an_onset_difference_within_one_frame_interval(sqlite_engine, settings) -> None:
    robot = record_run(sqlite_engine, settings, turbidity_curve(30, 13))
    human = record_run(sqlite_engine, settings, turbidity_curve(30, 12), operator="human")
    for run_id in (robot, human):
        observe_run(sqlite_engine, settings, run_id, checkpointer=InMemorySaver())
    body = write_reflection(sqlite_engine, settings, robot, human, use_llm=False).body
    assert "came 5 min later" in body and "within one frame interval (5 min), so not a measured difference" in body


def test_simulated_runs_say_so_whoever_wrote_the_note(sqlite_engine, settings, openai_server) -> None:
    from labloop.agents.notes.template import SIMULATED_NOTICE
    from labloop.knowledge_base.models import Run

    run_id = _observed_run(sqlite_engine, settings)
    assert SIMULATED_NOTICE not in write_lab_note(sqlite_engine, settings, run_id, use_llm=False).body
    with session_scope(sqlite_engine) as session:
        run = session.get(Run, run_id)
        run.config_snapshot = {**run.config_snapshot, "clock": "sim"}
        session.add(run)
    assert SIMULATED_NOTICE in write_lab_note(sqlite_engine, settings, run_id, use_llm=False).body
    # a model's prose that drops every "simulated" still gets labloop's own line
    openai_server.enqueue(Reply.text("## Observations\nThe mixture stayed clear, then turned milky."))
    written = write_lab_note(sqlite_engine, _llm(settings, openai_server), run_id)
    assert written.source == "llm" and SIMULATED_NOTICE in written.body
