"""The observer graph on recorded runs: one observation per frame, events, LLM failures recorded and
backfilled, bad frames recorded, checkpoints resumed (in-process and after SIGKILL of a real process)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from langgraph.checkpoint.memory import InMemorySaver
from sqlmodel import select

from labloop.agents.describe import VisionDescriber
from labloop.agents.observer.backfill import backfill_run
from labloop.agents.observer.checkpoints import open_checkpointer
from labloop.agents.observer.runner import ObserveOptions, ObserverError, observe_run
from labloop.knowledge_base import observations as kb
from labloop.knowledge_base.db import get_engine, session_scope
from labloop.knowledge_base.frame_store import FrameStore
from labloop.knowledge_base.models import Frame, Observation, RunStatus
from labloop.knowledge_base.runs import add_frame, finish_run
from tests.agents.recorded import START, record_run, turbidity_curve
from tests.agents.synthetic import encode, render_vial
from tests.support.openai_server import Reply

VALID = {"note": "Clear solution.", "turbidity": 0.0, "confidence": 0.9, "events": []}


def _observations(engine, run_id):
    with session_scope(engine) as session:
        return kb.observations_for_run(session, run_id)


def test_one_observation_per_frame_with_onset_on_both_backends(engine, settings) -> None:
    run_id = record_run(engine, settings, turbidity_curve(30, 12))
    summary = observe_run(engine, settings, run_id, checkpointer=InMemorySaver())
    rows = _observations(engine, run_id)
    assert summary.observations == len(rows) == 30 and summary.llm_calls == 0
    assert all(o.source == "cv" and o.llm_status == "skipped" and o.quality == "ok" for o, _ in rows)
    assert summary.onset_elapsed_s == pytest.approx(13 * 300)  # frame 12 scores exactly the rise, 13 exceeds it
    assert rows[0][0].haze < 0.05 and rows[-1][0].cv_score > 3.5


def test_bad_frames_are_recorded_and_the_run_goes_on(sqlite_engine, settings) -> None:
    black = encode(np.zeros((240, 320, 3), np.uint8))
    white = encode(np.full((240, 320, 3), 255, np.uint8))
    small = encode(render_vial(0.1)[:120, :160])
    frames = [0.0, 0.0, 0.0, b"not an image at all", black, white, small, 0.0, 0.5]
    run_id = record_run(sqlite_engine, settings, frames)
    summary = observe_run(sqlite_engine, settings, run_id, checkpointer=InMemorySaver())
    qualities = [o.quality.split(":")[0] for o, _ in _observations(sqlite_engine, run_id)]
    assert qualities == ["ok", "ok", "ok", "corrupt", "black", "overexposed", "wrong_size", "ok", "ok"]
    assert summary.observations == 9 and summary.unusable == 4
    assert summary.events.count("bad_frame") == 1  # alerted once for the stretch of bad frames


def test_camera_gap_and_sudden_change_events(sqlite_engine, settings) -> None:
    run_id = record_run(sqlite_engine, settings, [0, 0, 0, 0, 0, 0.9, 0.9], skip_after={3: 3600})
    summary = observe_run(sqlite_engine, settings, run_id, checkpointer=InMemorySaver())
    assert "camera_gap" in summary.events and "sudden_change" in summary.events


def test_llm_every_n_frames_with_failures_recorded_then_backfilled(sqlite_engine, settings, openai_server) -> None:
    cfg = settings.model_copy(update={"llm_base_url": openai_server.base_url, "llm_model": "scripted-vision",
                                      "llm_max_retries": 1})
    answers = iter([Reply.json(VALID), Reply.json({**VALID, "turbidity": "high"}), Reply.json({**VALID, "turbidity": 7}),
                    Reply.error(500), Reply.text("It looks clear to me.")])
    openai_server.handler = lambda request: next(answers, Reply.json({**VALID, "turbidity": 5.0}))
    run_id = record_run(sqlite_engine, settings, [0.0] * 7)
    summary = observe_run(sqlite_engine, cfg, run_id, checkpointer=InMemorySaver(),
                          options=ObserveOptions(describe_every=3))
    rows = [o for o, _ in _observations(sqlite_engine, run_id)]
    described = [o for o in rows if o.llm_status != "skipped"]
    assert [rows.index(o) for o in described] == [0, 3, 6]  # first frame, then every third
    assert described[0].llm_status == "ok" and described[0].source == "llm" and described[0].model == "scripted-vision"
    assert described[1].llm_status == "failed" and "schema" in described[1].llm_error and described[1].llm_score is None
    assert described[2].llm_status == "failed" and described[2].llm_score is None
    assert summary.llm_calls == 5 and summary.llm_failed == 2
    assert described[2].input_hashes and described[2].prompt_hash and described[2].latency_ms is not None

    openai_server.handler = lambda request: Reply.json({**VALID, "turbidity": 4.5})
    result = backfill_run(sqlite_engine, VisionDescriber(cfg), FrameStore(settings.frames_dir), run_id)
    assert (result.attempted, result.filled) == (2, 2)
    rows = [o for o, _ in _observations(sqlite_engine, run_id)]
    assert [o.llm_status for o in rows if o.llm_status != "skipped"] == ["ok", "ok", "ok"]
    with session_scope(sqlite_engine) as session:
        assert len(kb.events_for_run(session, run_id, "disagreement")) == 2  # CV 0 vs vision model 4.5


def test_llm_disagreement_is_an_event(sqlite_engine, settings, openai_server) -> None:
    cfg = settings.model_copy(update={"llm_base_url": openai_server.base_url, "llm_model": "m"})
    openai_server.handler = lambda request: Reply.json({**VALID, "turbidity": 4.0})
    run_id = record_run(sqlite_engine, settings, [0.0, 0.0])
    summary = observe_run(sqlite_engine, cfg, run_id, checkpointer=InMemorySaver())
    assert summary.events.count("disagreement") == 1  # only the first frame was described


def test_webhook_receives_alerts_and_a_dead_webhook_does_not_stop_the_run(sqlite_engine, settings) -> None:
    received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        run_id = record_run(sqlite_engine, settings, turbidity_curve(10, 4))
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        observe_run(sqlite_engine, settings, run_id, checkpointer=InMemorySaver(), options=ObserveOptions(webhook_url=url))
    finally:
        server.shutdown()
    assert [e["kind"] for e in received] == ["onset"] and received[0]["run_id"] == run_id
    run_id = record_run(sqlite_engine, settings, turbidity_curve(10, 4))
    summary = observe_run(sqlite_engine, settings, run_id, checkpointer=InMemorySaver(),
                          options=ObserveOptions(webhook_url="http://127.0.0.1:9/dead"))
    assert summary.observations == 10
    with session_scope(sqlite_engine) as session:
        assert not kb.events_for_run(session, run_id, "onset")[0].alerted


def test_a_second_start_needs_resume_and_resume_only_adds_new_frames(sqlite_engine, settings) -> None:
    run_id = record_run(sqlite_engine, settings, [0.0] * 5, status=RunStatus.running)
    saver = InMemorySaver()
    assert observe_run(sqlite_engine, settings, run_id, checkpointer=saver).observations == 5
    with pytest.raises(ObserverError, match="--resume"):
        observe_run(sqlite_engine, settings, run_id, checkpointer=saver)
    store = FrameStore(settings.frames_dir)
    with session_scope(sqlite_engine) as session:
        for seq in (5, 6):
            add_frame(session, run_id, seq=seq, ts=START + timedelta(minutes=5 * seq), camera="test",
                      stored=store.put(encode(render_vial(0.0, seed=seq))), width=320, height=240)
    summary = observe_run(sqlite_engine, settings, run_id, checkpointer=saver, resume=True)
    assert summary.resumed and summary.frames == 2 and summary.observations == 7


def test_follow_mode_waits_for_frames_until_the_run_ends(sqlite_engine, settings) -> None:
    run_id = record_run(sqlite_engine, settings, [0.0, 0.0], status=RunStatus.running)
    signal_ = threading.Event()
    store = FrameStore(settings.frames_dir)

    def recorder() -> None:
        for seq in (2, 3, 4):
            time.sleep(0.1)
            with session_scope(sqlite_engine) as session:
                add_frame(session, run_id, seq=seq, ts=START + timedelta(minutes=5 * seq), camera="test",
                          stored=store.put(encode(render_vial(0.0, seed=seq))), width=320, height=240)
            signal_.set()
        with session_scope(sqlite_engine) as session:
            finish_run(session, run_id, status=RunStatus.success)
        signal_.set()

    thread = threading.Thread(target=recorder)
    thread.start()
    summary = observe_run(sqlite_engine, settings, run_id, checkpointer=InMemorySaver(),
                          options=ObserveOptions(follow=True, poll_s=0.05), frame_signal=signal_)
    thread.join()
    assert summary.observations == 5


def test_unknown_run_is_a_clear_error(sqlite_engine, settings) -> None:
    with pytest.raises(ObserverError, match="does not exist"):
        observe_run(sqlite_engine, settings, 999, checkpointer=InMemorySaver())


def test_postgres_checkpointer_resumes(engine, db_url, settings) -> None:
    run_id = record_run(engine, settings, [0.0] * 3, status=RunStatus.running)
    with open_checkpointer(db_url) as saver:
        observe_run(engine, settings, run_id, checkpointer=saver)
    with open_checkpointer(db_url) as saver:
        summary = observe_run(engine, settings, run_id, checkpointer=saver, resume=True)
    assert summary.resumed and summary.frames == 0 and summary.observations == 3


def test_sigkill_mid_run_then_resume_gives_exactly_one_observation_per_frame(settings) -> None:
    engine = get_engine(settings)
    n = 160
    run_id = record_run(engine, settings, turbidity_curve(n, 80, step=0.03))
    cmd = [sys.executable, "-m", "labloop", "observe", "--run", str(run_id), "--offline"]
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy())
    deadline = time.monotonic() + 120
    count = 0
    while time.monotonic() < deadline and child.poll() is None:
        with session_scope(engine) as session:
            count = kb.count_observations(session, run_id)
        if count >= 30:
            break
        time.sleep(0.02)
    assert child.poll() is None, f"observer ended before it could be killed: {child.stderr.read().decode()[-2000:]}"
    child.send_signal(signal.SIGKILL)
    child.wait()
    with session_scope(engine) as session:
        killed_at = kb.count_observations(session, run_id)
    assert 30 <= killed_at < n

    refused = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    assert refused.returncode == 1 and "--resume" in refused.stderr and "Traceback" not in refused.stderr

    resumed = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, env=os.environ.copy())
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    with session_scope(engine) as session:
        frame_ids = session.exec(select(Frame.id).where(Frame.run_id == run_id)).all()
        observed = session.exec(select(Observation.frame_id).where(Observation.run_id == run_id)).all()
        onsets = kb.events_for_run(session, run_id, "onset")
    assert sorted(observed) == sorted(frame_ids) and len(observed) == n
    assert len(onsets) == 1


def test_observe_records_and_watches_a_new_robot_run(settings, tmp_path) -> None:
    """`labloop observe --robot --camera` as a real process: the simulated robot runs a dispensing program over TCP,
    the simulated camera is recorded on a simulated clock, and every frame gets exactly one observation."""
    from labloop.devices.simulator import robot_simulator
    from labloop.knowledge_base.models import DeviceEvent, Run

    program = tmp_path / "dispense.gcode"
    program.write_text("G28\nG90\nM82\nG1 E2 F300\nG1 X50 Y50 Z10 F3000\nG1 E0 F300\nM400\n")
    with robot_simulator(speed=1000.0) as url:
        cmd = [sys.executable, "-m", "labloop", "observe", "--robot", url, "--gcode", str(program),
               "--camera", "sim:seed=3,onset=1h,offset=2mm", "--interval", "10m", "--duration", "3h",
               "--clock", "sim", "--name", "cli live run"]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=os.environ.copy())
    assert done.returncode == 0, done.stderr[-2000:]
    assert "onset" in done.stdout
    engine = get_engine(settings)
    with session_scope(engine) as session:
        run = session.exec(select(Run).where(Run.name == "cli live run")).one()
        assert run.status == RunStatus.success and run.config_snapshot["camera"]["offset"] == 2.0
        frames = session.exec(select(Frame).where(Frame.run_id == run.id)).all()
        dispenses = session.exec(select(DeviceEvent.payload).where(
            DeviceEvent.run_id == run.id, DeviceEvent.kind == "dispense")).all()
    assert len(frames) == 19  # 0 h to 3 h every 10 min
    assert sorted(obs.frame_id for obs, _ in _observations(engine, run.id)) == sorted(f.id for f in frames)
    assert dispenses == ["dispense 2 mL (E 2 -> 0)"]


def test_observe_refuses_bad_new_run_options(settings) -> None:
    for args, message in ((["--camera", "sim:seed=1", "--interval", "often"], "often"),
                          (["--robot", "socket://127.0.0.1:9"], "--camera")):
        done = subprocess.run([sys.executable, "-m", "labloop", "observe", *args], capture_output=True, text=True,
                              timeout=60, env=os.environ.copy())
        assert done.returncode != 0 and message in done.stderr and "Traceback" not in done.stderr
