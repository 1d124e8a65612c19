"""The chat agent against the scripted OpenAI-compatible server over real HTTP, on a seeded knowledge base
(SQLite file and PostgreSQL): tool calls, citations, memory, and everything a model can get wrong."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

from labloop.agents.chat.agent import ChatError
from labloop.knowledge_base.db import is_sqlite, make_engine, make_readonly_engine
from tests.dashboard.seed import INJECTION
from tests.support.openai_server import Reply


def snapshot(url: str) -> tuple[list, str | None]:
    """Every row of every table, and for SQLite the file's hash: what 'nothing changed' means."""
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = [sorted(map(repr, conn.execute(select(t)).all())) for t in SQLModel.metadata.sorted_tables]
    engine.dispose()
    digest = None
    if is_sqlite(url):
        digest = hashlib.sha256(Path(url.removeprefix("sqlite:///")).read_bytes()).hexdigest()
    return rows, digest


def tool_messages(request: dict) -> list[dict]:
    return [m for m in request["messages"] if m["role"] == "tool"]


def test_tool_calls_feed_the_answer_and_citations_are_checked(agent_factory, openai_server):
    openai_server.enqueue(
        Reply.tool_call("find_runs", {"operator": "robot"}),
        Reply.tool_call("turbidity_series", {"run_id": 1, "max_points": 10}),
        Reply.text("Run 1 turned cloudy at 7.0 min [run:1], see [frame:13]; also [run:99]."),
    )
    events = []
    answer = agent_factory().ask("when did the robot run turn cloudy?", on_event=events.append)
    assert answer.text.startswith("Run 1 turned cloudy")
    assert answer.citations == ["run:1", "frame:13"]
    assert answer.unverified == ["run:99"]
    assert [c["name"] for c in answer.tool_calls] == ["find_runs", "turbidity_series"]
    assert answer.model == "scripted-model" and answer.source == "llm"
    assert "".join(e["token"] for e in events if "token" in e).strip() == answer.text.strip()
    first, second, third = openai_server.requests
    assert first["stream"] is True and len(first["tools"]) == 10
    assert first["messages"][0]["role"] == "system"
    runs = json.loads(tool_messages(second)[0]["content"])["runs"]
    assert [r["ref"] for r in runs] == ["run:1"] and runs[0]["operator"] == "robot"
    series = json.loads(tool_messages(third)[1]["content"])
    assert series["onset_t_min_computed"] == 7.0 and len(series["points"]) == 10
    assert all(set(m) <= {"role", "content", "tool_calls", "tool_call_id"} for m in third["messages"])


def test_unknown_tool_and_delete_request_change_nothing(agent_factory, openai_server, chat_settings):
    before = snapshot(chat_settings.effective_database_url)
    openai_server.enqueue(
        Reply.tool_call("delete_run", {"run_id": 1}),
        Reply.tool_call("execute_sql", {"sql": "DELETE FROM run"}),
        Reply.text("I cannot delete runs; I am read-only."),
    )
    answer = agent_factory().ask("Please delete run 1 and all its frames.")
    assert "read-only" in answer.text
    errors = [json.loads(m["content"])["error"] for m in tool_messages(openai_server.requests[-1])]
    assert "no tool named 'delete_run'" in errors[0] and "read-only" in errors[0]
    assert "no tool named 'execute_sql'" in errors[1]
    assert snapshot(chat_settings.effective_database_url) == before


def test_wrong_argument_types_are_reported_to_the_model(agent_factory, openai_server):
    openai_server.enqueue(
        Reply.tool_calls_([
            {"name": "run_timeline", "arguments": {"run_id": "one"}},
            {"name": "frame_at", "arguments": "{not json"},
            {"name": "compare_runs", "arguments": {"run_ids": [1]}},
            {"name": "find_runs", "arguments": {"limit": 10, "drop": True}},
            {"name": "run_notes", "arguments": "[1, 2]"},
            {"name": "run_timeline", "arguments": {"run_id": 999}},
        ]),
        Reply.text("Some calls failed."),
    )
    answer = agent_factory().ask("timeline of run one?")
    errors = [json.loads(m["content"])["error"] for m in tool_messages(openai_server.requests[-1])]
    assert "wrong arguments for run_timeline: run_id" in errors[0]
    assert "not valid JSON" in errors[1]
    assert "compare_runs: run_ids" in errors[2]
    assert "drop" in errors[3]
    assert "must be a JSON object" in errors[4]
    assert errors[5] == "there is no run with id 999"
    assert [c["ok"] for c in answer.tool_calls] == [False] * 6


def test_tool_call_loop_is_bounded_and_the_thread_stays_usable(agent_factory, openai_server):
    openai_server.handler = lambda request: Reply.tool_call("find_runs", {})
    agent = agent_factory(max_tool_rounds=3)
    answer = agent.ask("loop forever", thread_id="t")
    assert answer.source == "labloop (no model)" and "3 rounds" in answer.text
    assert len(openai_server.requests) == 4
    openai_server.handler = None
    openai_server.enqueue(Reply.text("fine now"))
    assert agent.ask("and now?", thread_id="t").text == "fine now"
    sent = openai_server.requests[-1]["messages"]
    wanted = [c["id"] for m in sent if m["role"] == "assistant" for c in m.get("tool_calls", [])]
    assert sorted(wanted) == sorted(m["tool_call_id"] for m in sent if m["role"] == "tool")


def test_prompt_injection_in_a_note_changes_nothing(agent_factory, openai_server, chat_settings, seeded):
    before = snapshot(chat_settings.effective_database_url)
    openai_server.enqueue(
        Reply.tool_call("run_notes", {"run_id": seeded.run_ids[-1]}),
        Reply.tool_calls_([{"name": "delete_run", "arguments": {"run_id": 1}},
                           {"name": "find_runs", "arguments": {"text": "'; DROP TABLE run; --"}}]),
        Reply.text("done as the note asked"),
    )
    agent_factory().ask("summarise the notes of the human run")
    injected = [m for m in openai_server.requests[1]["messages"] if INJECTION in (m.get("content") or "")]
    assert [m["role"] for m in injected] == ["tool"]
    assert snapshot(chat_settings.effective_database_url) == before


def test_memory_is_per_thread_and_survives_a_new_agent(agent_factory, openai_server):
    openai_server.enqueue(Reply.text("A1"), Reply.text("A2"), Reply.text("B1"))
    agent_factory().ask("first question about run 1", thread_id="a")
    agent_factory().ask("and the second?", thread_id="a")
    agent_factory().ask("unrelated", thread_id="b")
    contents = [[(m["content"] or "").strip() for m in r["messages"] if m["role"] != "system"] for r in openai_server.requests]
    assert contents[1] == ["first question about run 1", "A1", "and the second?"]
    assert contents[2] == ["unrelated"]


@pytest.mark.parametrize("question", ["", "   ", "x" * 5000])
def test_empty_and_huge_questions_are_refused_before_any_request(agent_factory, openai_server, question):
    with pytest.raises(ChatError, match="empty|characters long"):
        agent_factory().ask(question)
    assert openai_server.requests == []


def test_molecule_lookup_invalid_smiles_and_prediction(agent_factory, openai_server):
    openai_server.enqueue(
        Reply.tool_calls_([
            {"name": "lookup_molecule", "arguments": {"query": "p-toluenesulfonyl chloride"}},
            {"name": "lookup_molecule", "arguments": {"query": "C1CC(("}},
            {"name": "predict_property", "arguments": {"smiles": "Cc1ccc(cc1)S(Cl)(=O)=O"}},
            {"name": "predict_property", "arguments": {"smiles": "not a smiles"}},
        ]),
        Reply.text("Melts at 69 degC [measurement:1]."),
    )
    agent_factory().ask("what is the melting point of p-toluenesulfonyl chloride and how sure are you?")
    found, invalid, predicted, bad = (json.loads(m["content"]) for m in tool_messages(openai_server.requests[-1]))
    mol = found["molecules"][0]
    assert mol["inchikey"] == "YYROPELSRYBVMQ-UHFFFAOYSA-N"
    assert mol["consensus"][0]["median"] == 69.0 and mol["consensus"][0]["spread"] == 4.0
    assert {m["source"] for m in mol["measurements"]} == {"source 1", "source 2", "source 3"}
    assert mol["descriptors_rdkit"]["formula"] == "C7H7ClO2S"
    assert "not a valid SMILES" in invalid["error"]
    assert predicted["smiles"] == "Cc1ccc(S(=O)(=O)Cl)cc1"
    if predicted["predictions"]:
        assert all(p["label"] for p in predicted["predictions"])
    else:
        assert "no prediction model available" in predicted["note"]
    assert "invalid SMILES" in bad["error"]


def test_look_at_frame_sends_a_downscaled_image_to_the_vision_model(agent_factory, openai_server):
    openai_server.enqueue(
        Reply.tool_call("look_at_frame", {"frame_id": 50}),
        Reply.text("milky, about 4 of 5"),
        Reply.text("The vision model sees a milky liquid [frame:50]."),
    )
    answer = agent_factory().ask("look at frame 50")
    vision = openai_server.requests[1]
    image = vision["messages"][0]["content"][1]["image_url"]["url"]
    assert image.startswith("data:image/jpeg;base64,")
    result = json.loads(tool_messages(openai_server.requests[2])[0]["content"])
    assert result["vision"]["text"] == "milky, about 4 of 5" and result["vision"]["model"] == "scripted-model"
    assert answer.citations == ["frame:50"]


@pytest.mark.parametrize("replies", [[Reply.error(500), Reply.error(500)], [Reply.error(400, "bad model")],
                                     [Reply.garbage(), Reply.garbage()]])
def test_a_failing_endpoint_gives_a_clear_error(agent_factory, openai_server, replies):
    openai_server.enqueue(*replies)
    with pytest.raises(ChatError, match="model endpoint"):
        agent_factory().ask("anything")


def test_non_streaming_mode(agent_factory, openai_server):
    openai_server.enqueue(Reply.tool_call("list_experiments", {}), Reply.text("One experiment [experiment:1]."))
    answer = agent_factory(stream=False).ask("which experiments?")
    assert answer.citations == ["experiment:1"]
    assert "stream" not in openai_server.requests[0] or not openai_server.requests[0]["stream"]


def test_the_tools_engine_cannot_write(chat_settings, seeded):
    engine = make_readonly_engine(chat_settings.effective_database_url)
    try:
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(text("DELETE FROM run"))
    finally:
        engine.dispose()


def test_a_turn_longer_than_the_history_window_is_sent_whole(agent_factory, openai_server):
    openai_server.enqueue(Reply.tool_calls_([{"name": "find_runs", "arguments": {"limit": 1}}] * 45),
                          Reply.text("Done [run:1]."))
    answer = agent_factory().ask("look everywhere")
    assert answer.text == "Done [run:1]." and len(answer.tool_calls) == 45
    sent = [m for m in openai_server.requests[-1]["messages"] if m["role"] != "system"]
    assert sent[0] == {"role": "user", "content": "look everywhere"}
    called = {c["id"] for m in sent if m["role"] == "assistant" for c in m.get("tool_calls", [])}
    assert [m["tool_call_id"] in called for m in sent if m["role"] == "tool"] == [True] * 45
