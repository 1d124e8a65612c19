"""`labloop chat` (one-shot and interactive) and `labloop export` as real subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from labloop.knowledge_base.db import get_engine
from tests.dashboard.seed import seed
from tests.support.openai_server import Reply


def labloop(*args: str, env: dict | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "labloop", *args], capture_output=True, text=True, input=stdin,
                          env={**os.environ, "COLUMNS": "200", **(env or {})}, timeout=120)


@pytest.fixture
def data(settings):  # noqa: ANN001, ANN201
    engine = get_engine(settings)
    seed(engine, settings.frames_dir)
    engine.dispose()
    return settings


@pytest.fixture
def llm(data, openai_server):  # noqa: ANN001, ANN201
    return {"LABLOOP_LLM_BASE_URL": openai_server.base_url, "LABLOOP_LLM_MODEL": "scripted-model"}


def test_one_shot_question(llm, openai_server):
    openai_server.enqueue(Reply.tool_call("run_timeline", {"run_id": 1}), Reply.text("Onset at 7 min [run:1]."))
    done = labloop("chat", "when did run 1 turn cloudy?", "--tools", env=llm)
    assert done.returncode == 0, done.stderr
    assert "Onset at 7 min [run:1]." in done.stdout and "sources: run:1" in done.stdout
    assert "tool run_timeline" in done.stderr and "answer by scripted-model" in done.stdout


def test_interactive_chat_keeps_memory(llm, openai_server):
    openai_server.enqueue(Reply.text("first answer"), Reply.text("second answer"))
    done = labloop("chat", env=llm, stdin="what runs are there?\nand the second?\n\n")
    assert done.returncode == 0, done.stderr
    assert "first answer" in done.stdout and "second answer" in done.stdout
    users = [m["content"] for m in openai_server.requests[1]["messages"] if m["role"] == "user"]
    assert users == ["what runs are there?", "and the second?"]


def test_chat_errors_are_clean(data, llm, openai_server):
    no_llm = labloop("chat", "hello")
    assert no_llm.returncode == 1 and "needs a language model" in no_llm.stderr and "Traceback" not in no_llm.stderr
    empty = labloop("chat", "  ", env=llm)
    assert empty.returncode == 1 and "the question is empty" in empty.stderr
    openai_server.handler = lambda request: Reply.error(500)
    down = labloop("chat", "hello", env=llm)
    assert down.returncode == 1 and "kept failing" in down.stderr and "Traceback" not in down.stderr


def test_export_formats(data, tmp_path: Path):
    for fmt, needle in (("md", "# Run 1: robot run 1"), ("html", "<!DOCTYPE html>"), ("csv", "frame_id,seq")):
        out = tmp_path / f"note.{fmt}"
        done = labloop("export", "1", "--format", fmt, "--out", str(out))
        assert done.returncode == 0, done.stderr
        assert out.read_text().startswith(needle) or needle in out.read_text()
    done = labloop("export", "1", "2", "--format", "eln")
    assert done.returncode == 0, done.stderr
    archive = data.reports_dir / "run-1-2.eln"
    assert "ro-crate-metadata.json" in " ".join(zipfile.ZipFile(archive).namelist())


@pytest.mark.parametrize(("args", "message"), [
    (["export", "999"], "there is no run with id 999"),
    (["export", "1", "2", "--format", "md"], "only with --format eln"),
    (["export", "1", "--format", "pdf"], "pdf"),
    (["export", "one"], "valid integer"),
])
def test_export_bad_input(data, args, message):
    done = labloop(*args)
    assert done.returncode != 0 and message in done.stderr and "Traceback" not in done.stderr


def test_dashboard_stops_its_server_on_sigterm(data):  # noqa: ANN001
    import socket
    import time

    from tests.support.dashboard import free_port, wait_until_healthy

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "labloop", "dashboard", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
    try:
        assert wait_until_healthy(proc, f"http://127.0.0.1:{port}"), "the dashboard did not start"
        proc.terminate()  # what docker stop, systemd or a supervisor sends
        proc.wait(timeout=20)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) != 0:
                    break
            time.sleep(0.2)
        else:
            pytest.fail(f"port {port} still served after `labloop dashboard` was stopped (orphaned streamlit server)")
    finally:
        if proc.poll() is None:
            proc.kill()
