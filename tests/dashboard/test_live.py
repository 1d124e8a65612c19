"""The dashboard while an observer-like process writes the same SQLite file, and the Chat page against the
scripted OpenAI-compatible server."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from sqlmodel import Session, func, select

from labloop.config import get_settings
from labloop.knowledge_base.db import make_engine
from labloop.knowledge_base.models import Frame, HumanLabel
from tests.support.openai_server import Reply

WRITER = textwrap.dedent("""
    import sys, time
    from datetime import timedelta
    from labloop.knowledge_base.db import make_engine, session_scope
    from labloop.knowledge_base.frame_store import StoredFile
    from labloop.knowledge_base.models import Observation
    from labloop.knowledge_base.runs import add_frame, start_run
    from labloop.knowledge_base.types import utcnow
    engine = make_engine(sys.argv[1])
    with session_scope(engine) as s:
        run_id = start_run(s, config_snapshot={}, name="live writer").id
    print("ready", flush=True)
    t0, seq = utcnow(), 0
    deadline = time.monotonic() + float(sys.argv[2])
    while time.monotonic() < deadline:
        with session_scope(engine) as s:  # each transaction holds the write lock for a while
            for _ in range(20):
                f = add_frame(s, run_id, seq=seq, ts=t0 + timedelta(seconds=seq), camera="c",
                              stored=StoredFile("0" * 64, "00/none.png", 1), width=1, height=1)
                s.add(Observation(run_id=run_id, frame_id=f.id, haze=0.1, cv_score=seq % 5))
                seq += 1
            time.sleep(0.05)
    print("wrote", seq, flush=True)
""")


def test_pages_work_while_an_observer_writes(seeded_dashboard, open_page):
    settings, seeded = seeded_dashboard
    url = settings.effective_database_url
    writer = subprocess.Popen([sys.executable, "-c", WRITER, url, "8"], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "ready"
        for page, params in [("runs", {}), ("run_detail", {"run": "1"}), ("compare", {"runs": "1,2"}),
                             ("label", {"run": "1"})] * 2:
            at = open_page(page, **params)
            assert not at.exception, (page, at.exception)
        at.slider[0].set_value(2.0)
        at.text_input(key="label_author").set_value("ada")
        at.button[[b.label for b in at.button].index("Save label")].click().run()
        assert not at.exception and not at.error
    finally:
        out, _ = writer.communicate(timeout=60)
    assert writer.returncode == 0 and int(out.split()[-1]) > 100
    engine = make_engine(url)
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(HumanLabel).where(HumanLabel.author == "ada")).one() == 1
        assert s.exec(select(func.count()).select_from(Frame)).one() > 120
    engine.dispose()


@pytest.fixture
def llm_env(seeded_dashboard, openai_server, monkeypatch):  # noqa: ANN001, ANN201
    monkeypatch.setenv("LABLOOP_LLM_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("LABLOOP_LLM_MODEL", "scripted-model")
    get_settings.cache_clear()
    yield openai_server
    get_settings.cache_clear()


def test_chat_page_streams_an_answer_with_linked_citations(llm_env, open_page):
    server = llm_env
    server.enqueue(Reply.tool_call("find_runs", {"operator": "robot"}),
                   Reply.text("The robot run is [run:1]; onset at 7.0 min."))
    at = open_page("chat")
    assert not at.exception and "read-only" in " ".join(c.value for c in at.caption)
    at.toggle(key="chat_show_tools").set_value(True)
    at.chat_input[0].set_value("which run was the robot's?").run()
    assert not at.exception
    shown = "\n".join(m.value for m in at.markdown)
    assert "[run:1](/run_detail?run=1)" in shown
    captions = "\n".join(c.value for c in at.caption)
    assert "tool find_runs" in captions and "answer by scripted-model" in captions
    assert "Sources: [run:1](/run_detail?run=1)" in captions
    server.enqueue(Reply.text("Still run 1 [run:1]."))
    at.chat_input[0].set_value("sure?").run()
    sent = [m["content"].strip() for m in server.requests[-1]["messages"] if m["role"] == "user"]
    assert sent == ["which run was the robot's?", "sure?"]


def test_chat_page_reports_a_failing_endpoint(llm_env, open_page):
    llm_env.handler = lambda request: Reply.error(503, "overloaded")
    at = open_page("chat")
    at.chat_input[0].set_value("hello").run()
    assert not at.exception and "kept failing" in at.error[0].value
