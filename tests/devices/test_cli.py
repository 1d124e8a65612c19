"""The devices CLI as a chemist runs it, in subprocesses: SIGKILL mid-run loses no committed frame, SIGINT closes
the run as aborted, `robot simulate` + `robot run-gcode` talk over a real socket."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from labloop.config import Settings
from labloop.knowledge_base.db import make_engine
from labloop.knowledge_base.frame_store import FrameStore
from labloop.knowledge_base.models import Frame, Gap, Run

LABLOOP = [sys.executable, "-m", "labloop"]
SLOW_SIM = ["--camera", "sim:seed=2,width=320,height=240", "--clock", "sim", "--interval", "60s", "--duration", "12h",
            "--sim-speedup", "1200"]


def _frames(settings: Settings) -> int:
    engine = make_engine(settings.effective_database_url)
    try:
        with Session(engine) as session:
            return session.exec(select(func.count()).select_from(Frame)).one()
    except Exception:  # the database may not exist yet while the subprocess starts
        return 0
    finally:
        engine.dispose()


def _wait_for_frames(settings: Settings, proc: subprocess.Popen, n: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while _frames(settings) < n:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no frames appeared"
        time.sleep(0.1)


def test_sigkill_mid_run_loses_nothing_committed(settings: Settings) -> None:
    proc = subprocess.Popen([*LABLOOP, "acquire", *SLOW_SIM], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for_frames(settings, proc, 8)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    engine = make_engine(settings.effective_database_url)
    store = FrameStore(settings.frames_dir)
    with Session(engine) as session:
        (run,) = session.exec(select(Run)).all()
        frames = session.exec(select(Frame)).all()
    assert run.status == "running"  # nobody closed it
    assert len(frames) >= 8 and [f.seq for f in frames] == list(range(len(frames)))
    assert all(store.verify(f.path, f.sha256) for f in frames)
    referenced = {f.path for f in frames}
    assert not any(p.name.startswith(".tmp-") for p in map(Path, referenced))
    for stray in store.stray_temp_files():  # a write killed midway may leave a temp file nobody references
        assert str(stray.relative_to(store.root)) not in referenced

    done = subprocess.run([*LABLOOP, "acquire", "--camera", "sim:width=160,height=120", "--clock", "sim",
                           "--interval", "1m", "--duration", "2m"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with Session(engine) as session:
        killed = session.get(Run, run.id)
        gaps = session.exec(select(Gap).where(Gap.run_id == run.id)).all()
        second = session.exec(select(Run).where(Run.id != run.id)).one()
    assert killed.status == "failed" and "abandoned" in killed.exit_reason
    assert len(gaps) == 1 and gaps[0].device == "acquisition"
    assert second.status == "success"
    engine.dispose()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_closes_the_run_as_aborted(settings: Settings, sig: signal.Signals) -> None:
    proc = subprocess.Popen([*LABLOOP, "acquire", *SLOW_SIM], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    _wait_for_frames(settings, proc, 3)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "aborted" in out and "Traceback" not in err
    engine = make_engine(settings.effective_database_url)
    with Session(engine) as session:
        (run,) = session.exec(select(Run)).all()
    assert run.status == "aborted" and run.stopped_at is not None
    engine.dispose()


def test_simulate_and_run_gcode(shared_data: Path, settings: Settings) -> None:
    sim = subprocess.Popen([*LABLOOP, "robot", "simulate", "--listen", "socket://127.0.0.1:0", "--speed", "10000",
                            "--faults", "corrupt=0.05", "--seed", "3"], stdout=subprocess.PIPE, text=True)
    try:
        line = sim.stdout.readline()
        url = next(word for word in line.split() if word.startswith("socket://"))
        done = subprocess.run([*LABLOOP, "robot", "run-gcode", str(shared_data / "gcode" / "export_3.gcode"),
                               "--port", url], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "39 commands" in done.stdout and "resends" in done.stdout
    finally:
        sim.send_signal(signal.SIGINT)
        sim.wait(timeout=10)


def test_cli_refuses_bad_input_without_tracebacks(tmp_path: Path, settings: Settings) -> None:
    bad = tmp_path / "bad.gcode"
    bad.write_text("G28\nG1 E400\n")
    cases = [
        (["robot", "run-gcode", str(bad), "--port", "socket://127.0.0.1:1"], "line 2: absurd volume"),
        (["robot", "run-gcode", str(tmp_path / "none.gcode"), "--port", "loop://"], "cannot read"),
        (["robot", "simulate", "--faults", "explode=1"], "cannot read fault"),
        (["acquire", "--camera", "sim:", "--interval", "soon"], "cannot read duration"),
        (["acquire", "--camera", "sim:", "--gcode", str(bad), "--clock", "sim"], "needs a robot"),
        (["acquire", "--camera", "sim:", "--robot", "socket://127.0.0.1:1", "--gcode", str(bad), "--clock", "sim"],
         "absurd volume"),
    ]
    for args, message in cases:
        done = subprocess.run([*LABLOOP, *args], capture_output=True, text=True, timeout=60)
        assert done.returncode != 0, args
        assert message in done.stderr.replace("\n", " "), (args, done.stderr)
        assert "Traceback" not in done.stderr
