"""The real driver against the virtual dispenser over a real TCP socket and a real pty, with every fault knob,
and against adversarial peers (garbage, half lines, silence, echo floods)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labloop.devices.marlin import (
    CommandInterrupted,
    CommandTimeout,
    FirmwareError,
    GCodeValidationError,
    MarlinDriver,
    ProgramStopped,
    ResendLimitError,
    RobotConnectionError,
    RobotError,
)
from labloop.devices.simulator import FaultSpecError, RobotSimulator, running_simulator
from labloop.knowledge_base.runs import EventRecord
from tests.devices.peers import scripted_peer

FAST = {"timeout_s": 0.4, "move_timeout_s": 0.4, "reconnect_attempts": 3, "backoff_s": 0.05}
PROGRAM = ["G21", "G90", "M82", "G28", "G92 X0 Y0 Z0 E0", "G0 Z50 F3000", "G0 X29 Y50 F3000", "G1 E0.2 F50",
           "G1 E0 F50", "G0 X190 Y50 F3000", "G1 E0.5 F50", "G1 E0.1 F50", "M400"]


@pytest.fixture(params=["socket://127.0.0.1:0", "pty"])
def listen(request: pytest.FixtureRequest) -> str:
    return request.param


def _sim(listen: str, faults: str = "", seed: int = 0) -> Iterator[RobotSimulator]:
    return running_simulator(listen, faults=faults, speed=1e4, seed=seed)


def test_verbs_and_events(listen: str) -> None:
    events: list[EventRecord] = []
    with _sim(listen) as sim, MarlinDriver(sim.url, on_event=events.append, **FAST) as robot:
        robot.home()
        robot.move_to(x=10, y=20, z=30, feed=3000)
        assert robot.aspirate(0.25).e == pytest.approx(0.25)
        assert robot.dispense(0.1).e == pytest.approx(0.15)
        robot.dispense()
        robot.wait_idle()
        pos = robot.position()
        assert (pos.x, pos.y, pos.z, pos.e) == (10, 20, 30, 0)
        assert sim.firmware.aspirated_ml == pytest.approx(0.25)
        assert sim.firmware.dispensed_ml == pytest.approx(0.25)
    sent = [e.payload for e in events if e.direction == "tx"]
    assert sent[0] == "M110 N0" and sent[1].startswith("N1 G28*")
    assert all(e.ts.tzinfo is not None for e in events)
    assert {e.kind for e in events} >= {"line", "ok", "data", "connect", "aspirate", "dispense"}


@pytest.mark.parametrize("name", ["export_3.gcode", "tuesday_1.gcode"])
def test_shared_programs_run(shared_data: Path, listen: str, name: str) -> None:
    lines = (shared_data / "gcode" / name).read_text().splitlines()
    with _sim(listen) as sim, MarlinDriver(sim.url, **FAST) as robot:
        summary = robot.run_gcode(lines, source=name)
        assert summary.errors == 0 and summary.resends == 0
        assert summary.lines_sent == summary.commands
        pos = robot.position()
    assert (pos.x, pos.y, pos.e) == (0, 185, 0)  # the programs end in the back corner with an empty syringe
    assert sim.firmware.dispensed_ml > 0


def test_shared_program_survives_noisy_link(shared_data: Path, listen: str) -> None:
    lines = (shared_data / "gcode" / "export_3.gcode").read_text().splitlines()
    with _sim(listen, "corrupt=0.1,drop_ok=0.05,echo=0.1,garbage=0.03", seed=7) as sim, \
            MarlinDriver(sim.url, **FAST) as robot:
        summary = robot.run_gcode(lines)
        assert summary.resends > 0
    numbers = [e.line_number for e in sim.firmware.executed if e.line_number]
    assert len(numbers) == len(set(numbers)), "a line was executed twice"
    assert sum(1 for e in sim.firmware.executed if e.command.startswith(("G0", "G1", "G2"))) == sum(
        1 for line in lines if line.strip().startswith(("G0", "G1", "G2")))


def test_corrupt_lines_are_resent(listen: str) -> None:
    with _sim(listen, "corrupt@3,corrupt@5") as sim, MarlinDriver(sim.url, **FAST) as robot:
        robot.run_gcode(PROGRAM)
        assert robot.stats.resends == 2
    assert [e.command for e in sim.firmware.executed if e.line_number] == PROGRAM


def test_endless_corruption_hits_the_resend_limit(listen: str) -> None:
    with _sim(listen, "corrupt=1") as sim, MarlinDriver(sim.url, max_resends=3, **FAST) as robot:
        with pytest.raises(ResendLimitError, match="too noisy"):
            robot.home()
    assert not [e for e in sim.firmware.executed if e.line_number]


def test_lost_ok_is_recovered_without_repeating(listen: str) -> None:
    events: list[EventRecord] = []
    with _sim(listen, "drop_ok@4") as sim, MarlinDriver(sim.url, on_event=events.append, **FAST) as robot:
        robot.send("G28")
        robot.send("G1 E0.3 F50")  # its ok is dropped
        robot.send("G1 E0.1 F50")
        assert robot.stats.lost_oks == 1
    assert sim.firmware.dispensed_ml == pytest.approx(0.2) and sim.firmware.aspirated_ml == pytest.approx(0.3)
    assert any(e.kind == "lost_ok" for e in events)


def test_busy_keepalives_extend_the_timeout(listen: str) -> None:
    with running_simulator(listen, faults="busy@2,busy_s=1.2,keepalive_s=0.1", speed=1e4) as sim, \
            MarlinDriver(sim.url, timeout_s=0.4, move_timeout_s=0.4) as robot:
        began = time.monotonic()
        robot.home()  # busy for 1.2 s, three times the timeout
        assert time.monotonic() - began >= 1.1
        assert robot.stats.timeouts == 0


def test_busy_without_keepalive_times_out() -> None:
    with running_simulator(faults="busy@2,busy_s=1.5,keepalive_s=0", speed=1e4) as sim, \
            MarlinDriver(sim.url, timeout_s=0.3, move_timeout_s=0.3) as robot:
        with pytest.raises(CommandTimeout, match="did not acknowledge 'G28'"):
            robot.home()


def test_disconnect_mid_dispense_is_reported_not_repeated(listen: str) -> None:
    events: list[EventRecord] = []
    # line 1 is M110; the dispense below is the 5th line the robot receives
    with _sim(listen, "disconnect@5") as sim, MarlinDriver(sim.url, on_event=events.append, **FAST) as robot:
        robot.send("G28")
        robot.send("M82")
        robot.send("G1 E0.4 F50")
        with pytest.raises(CommandInterrupted) as info:
            robot.send("G1 E0.1 F50")
        assert info.value.command == "G1 E0.1 F50"
        assert "NOT resent" in str(info.value)
        # the link is back and in sync (a pty "drop" is a board restart, which forgets positions)
        assert robot.position().e == pytest.approx(0.1 if listen != "pty" else 0.0)
    dispenses = [e for e in sim.firmware.executed if e.command == "G1 E0.1 F50"]
    assert len(dispenses) == 1
    assert robot.stats.reconnects == 1
    assert any(e.kind == "interrupted" for e in events)


def test_safe_commands_are_repeated_after_a_drop(listen: str) -> None:
    with _sim(listen, "disconnect@3") as sim, MarlinDriver(sim.url, **FAST) as robot:
        robot.send("G28")
        assert robot.position().x == 0  # M114 is the 3rd line; harmless to repeat
        assert robot.stats.reconnects == 1


def test_board_reset_is_treated_as_a_drop(listen: str) -> None:
    with _sim(listen, "reset@4") as sim, MarlinDriver(sim.url, **FAST) as robot:
        robot.home()
        with pytest.raises(CommandInterrupted):
            robot.move_to(x=5)  # G90 is line 3, the G0 line 4: the board restarts instead of moving
        robot.move_to(x=5)
        assert robot.position().x == 5


def test_mute_firmware_times_out_with_the_command_named(listen: str) -> None:
    with _sim(listen, "mute@3") as sim, MarlinDriver(sim.url, **{**FAST, "reconnect_attempts": 1}) as robot:
        robot.home()
        with pytest.raises(CommandTimeout) as info:
            robot.send("G1 X10")
        assert info.value.command == "G1 X10" and info.value.line_number == 2
        with pytest.raises(RobotConnectionError):
            robot.send("M114")  # the next command tries to reconnect; the firmware stays silent


def test_garbage_and_echo_floods_are_recorded_not_mistaken(listen: str) -> None:
    events: list[EventRecord] = []
    with running_simulator(listen, faults="garbage@3,echo=1,flood=200", speed=1e4) as sim, \
            MarlinDriver(sim.url, on_event=events.append, **FAST) as robot:
        robot.home()
        robot.move_to(x=3)
        assert robot.position().x == 3
    kinds = [e.kind for e in events]
    assert kinds.count("echo") >= 600
    assert "garbage" in kinds


def test_firmware_refusals_are_typed(listen: str) -> None:
    with _sim(listen) as sim, MarlinDriver(sim.url, **FAST) as robot:
        with pytest.raises(FirmwareError, match="outside the build volume"):
            robot.move_to(x=300)
        with pytest.raises(FirmwareError, match="overfill"):
            robot.aspirate(6.0)
        with pytest.raises(ValueError, match="holds only"):
            robot.dispense(0.5)
        with pytest.raises(ValueError):
            robot.aspirate(float("nan"))
        with pytest.raises(ValueError, match="single G-code command"):
            robot.send("G1 X1\nG1 X2")
        robot.home()  # still usable after refusals
        err = None
        try:
            robot.run_gcode(["G28", "G0 X500"], limits=None)
        except FirmwareError as exc:
            err = exc
        assert err is not None and "at line 2 of G-code: G0 X500" in err.__notes__[0]


def test_invalid_program_sends_nothing(listen: str) -> None:
    with _sim(listen) as sim, MarlinDriver(sim.url, **FAST) as robot:
        with pytest.raises(GCodeValidationError, match="line 2: unknown command G7"):
            robot.run_gcode(["G28", "G7", "G1 E0.2"])
    assert sim.lines_received == 1  # only the connection's M110


def test_program_stops_between_commands() -> None:
    import threading

    stop = threading.Event()
    with _sim("socket://127.0.0.1:0") as sim, MarlinDriver(sim.url, **FAST) as robot:
        with pytest.raises(ProgramStopped, match="before line 4"):
            robot.run_gcode(PROGRAM, progress=lambda done, total, cmd: stop.set() if done == 3 else None, stop=stop)


def test_unreachable_robot_fails_with_a_hint() -> None:
    with pytest.raises(RobotConnectionError, match="did not answer after 2 attempts"):
        MarlinDriver("socket://127.0.0.1:1", reconnect_attempts=2, backoff_s=0.01).connect()
    with pytest.raises(RobotConnectionError, match="cannot open robot port"):
        MarlinDriver("/dev/does-not-exist", reconnect_attempts=1).connect()


def test_fault_spec_errors() -> None:
    for bad in ("explode=0.1", "corrupt=2", "corrupt", "drop_ok@0", "busy_s=-1", "corrupt=abc"):
        with pytest.raises(FaultSpecError):
            RobotSimulator(faults=bad)
    with pytest.raises(ValueError, match="speed"):
        RobotSimulator(speed=0)
    with pytest.raises(ValueError, match="cannot listen"):
        RobotSimulator("tcp://nowhere")


# -- adversarial peers -----------------------------------------------------------------------------------

def test_peer_that_never_answers() -> None:
    with scripted_peer(lambda line, conn: None) as url:
        began = time.monotonic()
        with pytest.raises(RobotConnectionError, match="did not answer"):
            MarlinDriver(url, timeout_s=0.1, reconnect_attempts=1).connect()
        assert time.monotonic() - began < 3


def test_peer_that_floods_echo_lines_forever() -> None:
    def flood(line: str, conn) -> None:  # noqa: ANN001
        if "M110" in line:
            conn.sendall(b"ok\n")
        else:
            conn.sendall(b"echo:flood\n" * 5000)

    events: list[EventRecord] = []
    with scripted_peer(flood) as url, MarlinDriver(url, on_event=events.append, timeout_s=0.3) as robot:
        with pytest.raises(CommandTimeout):
            robot.send("M114", timeout_s=0.3)
    assert sum(e.kind == "echo" for e in events) > 1000


def test_peer_sending_half_lines_and_junk_before_ok() -> None:
    def answer(line: str, conn) -> None:  # noqa: ANN001
        conn.sendall(b"\xff\xfe junk\n")
        conn.sendall(b"X:1.00 Y:2.00 Z:3.00 ")
        time.sleep(0.05)
        conn.sendall(b"E:0.5000 Count X:0\nok\n")

    with scripted_peer(answer) as url, MarlinDriver(url, timeout_s=1) as robot:
        pos = robot.position()
    assert (pos.x, pos.e) == (1.0, 0.5)


def test_peer_requesting_resend_of_unknown_line() -> None:
    def answer(line: str, conn) -> None:  # noqa: ANN001
        conn.sendall(b"ok\n" if "M110" in line else b"Resend: 99\nok\n")

    with scripted_peer(answer) as url, MarlinDriver(url, timeout_s=0.5) as robot:
        with pytest.raises(RobotError, match="out of sync"):
            robot.send("M114")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(replies=st.lists(st.one_of(
    st.sampled_from(["ok", "Resend: 1", "Error:bad", "echo:hi", "busy: processing", "start", "X:1 Y:2",
                     "Resend: 0", "ok N1", "rs N2", "!!"]),
    st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=255), max_size=40)), max_size=6))
def test_fuzzed_replies_give_a_result_or_a_typed_error(replies: list[str]) -> None:
    payload = "".join(r.replace("\n", " ") + "\n" for r in replies).encode("latin-1")

    def answer(line: str, conn) -> None:  # noqa: ANN001
        conn.sendall(b"ok\n" if line == "M110 N0" else payload)

    with scripted_peer(answer) as url:
        robot = MarlinDriver(url, timeout_s=0.1, move_timeout_s=0.1, reconnect_attempts=1, max_resends=3)
        robot.connect()
        began = time.monotonic()
        try:
            robot.send("G1 X1")
        except RobotError:
            pass
        finally:
            robot.close()
        assert time.monotonic() - began < 3
