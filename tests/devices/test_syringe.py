"""Every aspirate and dispense is recorded with its volume, from verbs and from G-code programs alike, and the
recorded volumes agree with what the simulated syringe actually moved."""

from __future__ import annotations

from pathlib import Path

import pytest

from labloop.devices.marlin import MarlinDriver
from labloop.devices.marlin.syringe import SyringeTracker
from labloop.devices.simulator import running_simulator
from labloop.knowledge_base.runs import EventRecord

FAST = {"timeout_s": 0.4, "move_timeout_s": 0.4, "reconnect_attempts": 3, "backoff_s": 0.05}


def moves(tracker: SyringeTracker, commands: list[str]) -> list[tuple[str, float]]:
    found = [tracker.after(c) for c in commands]
    return [(m.verb, round(m.ml, 6)) for m in found if m is not None]


def test_absolute_relative_and_set_position():
    tracker = SyringeTracker()
    assert moves(tracker, ["G90", "G1 E0.5 F5", "G1 E0.2", "G92 E0", "G1 E0.1"]) == [
        ("aspirate", 0.5), ("dispense", 0.3), ("aspirate", 0.1)]
    # G91 makes E relative too, M82 takes E back to absolute (as in the shared programs)
    assert moves(tracker, ["G91", "G1 E0.2", "G1 X5", "M82", "G1 E0 F5"]) == [("aspirate", 0.2), ("dispense", 0.3)]
    assert moves(tracker, ["M83", "G1 E-0.05", "G0 X1 E0"]) == [("dispense", 0.05)]


@pytest.mark.parametrize("command", ["", "; comment only", "G1 X10", "M114", "G28", "G1 E0.1 ; (same place)"])
def test_commands_that_move_no_syringe(command):
    tracker = SyringeTracker()
    tracker.after("G92 E0.1")
    assert tracker.after(command) is None


def test_a_firmware_restart_zeroes_the_syringe():
    tracker = SyringeTracker()
    tracker.after("M83")
    tracker.after("G1 E1")
    tracker.reset()
    assert (tracker.e, tracker.absolute) == (0.0, True)


def test_program_dispenses_are_events_with_volumes():
    events: list[EventRecord] = []
    program = ["G28", "G90", "M82", "G1 E2.5 F300", "G1 E0 F300", "G1 E1 F300", "G1 E0.25 F300", "M400"]
    with running_simulator("socket://127.0.0.1:0", speed=1e4) as sim, \
            MarlinDriver(sim.url, on_event=events.append, **FAST) as robot:
        robot.run_gcode(program)
        robot.aspirate(0.5)
        robot.dispense()
    recorded = [(e.kind, e.payload) for e in events if e.kind in {"aspirate", "dispense"}]
    assert recorded == [
        ("aspirate", "aspirate 2.5 mL (E 0 -> 2.5)"), ("dispense", "dispense 2.5 mL (E 2.5 -> 0)"),
        ("aspirate", "aspirate 1 mL (E 0 -> 1)"), ("dispense", "dispense 0.75 mL (E 1 -> 0.25)"),
        ("aspirate", "aspirate 0.5 mL (E 0.25 -> 0.75)"), ("dispense", "dispense 0.75 mL (E 0.75 -> 0)"),
    ]
    dispensed = sum(float(p.split()[1]) for k, p in recorded if k == "dispense")
    assert dispensed == pytest.approx(sim.firmware.dispensed_ml)


def test_shared_program_volumes_match_the_simulated_syringe(shared_data: Path):
    events: list[EventRecord] = []
    lines = (shared_data / "gcode" / "tuesday_1.gcode").read_text().splitlines()
    with running_simulator("socket://127.0.0.1:0", speed=1e4) as sim, \
            MarlinDriver(sim.url, on_event=events.append, **FAST) as robot:
        robot.run_gcode(lines, source="tuesday_1.gcode")
    volume = {kind: sum(float(e.payload.split()[1]) for e in events if e.kind == kind)
              for kind in ("aspirate", "dispense")}
    assert volume["aspirate"] == pytest.approx(sim.firmware.aspirated_ml)
    assert volume["dispense"] == pytest.approx(sim.firmware.dispensed_ml)
