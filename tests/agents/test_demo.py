"""`labloop demo` end to end, in-process (fast) and through the CLI on a fresh data dir."""

from __future__ import annotations

import subprocess
import sys
import time

from labloop.agents.demo import ONSET_TOLERANCE_S, run_demo
from labloop.knowledge_base import observations as kb
from labloop.knowledge_base.db import get_engine, session_scope


def test_demo_detects_the_onset_and_writes_notes_reflection_and_plots(settings) -> None:
    result = run_demo(settings, duration_s=6 * 3600)
    for operator in ("robot", "human"):
        assert abs(result.onset_error_s(operator)) <= ONSET_TOLERANCE_S
        assert result.notes[operator].exists()
    reflection = result.reflection.read_text()
    assert "placement offset" in reflection and "3 mm from the stirrer centre" in reflection
    assert "SIMULATED" in reflection
    assert all(p.exists() and p.stat().st_size > 1000 for p in result.figures)
    engine = get_engine(settings)
    with session_scope(engine) as session:
        robot = result.run_ids["robot"]
        assert kb.count_observations(session, robot) == 6 * 12 + 1
        assert kb.notes_for_run(session, robot, "reflection")
    assert "labloop dashboard" in result.report()


def test_cli_demo_from_a_fresh_data_dir_under_two_minutes(settings) -> None:
    began = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "labloop", "demo"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert time.monotonic() - began < 120
    assert "reflection:" in out.stdout and "labloop dashboard" in out.stdout and "SIMULATED" in out.stdout
    assert (settings.data_dir / "labloop.db").exists()
