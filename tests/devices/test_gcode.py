"""Checking G-code before anything is sent: the shared programs pass, bad programs are refused by line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labloop.devices.marlin.gcode import GCodeLimits, GCodeValidationError, parse_program


def test_shared_programs_are_valid(shared_data: Path) -> None:
    for name, expected in (("export_3.gcode", 39), ("tuesday_1.gcode", 83)):
        commands = parse_program((shared_data / "gcode" / name).read_text().splitlines())
        assert len(commands) == expected
        assert commands[0].text == "G21"
        assert all(";" not in c.text for c in commands)


def test_comments_and_blank_lines_are_skipped() -> None:
    commands = parse_program(["; header", "", "G1 X10 (inline) F300 ; move", "  m400  "])
    assert [(c.line_no, c.text, c.code) for c in commands] == [(3, "G1 X10 F300", "G1"), (4, "M400", "M400")]
    assert commands[0].params == {"X": 10.0, "F": 300.0}


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("G7 X1", "unknown command G7"),
        ("M999", "unknown command M999"),
        ("G1", "G1 needs at least one of"),
        ("G2 X10", "G2 needs at least one of I, J, R"),
        ("G4", "G4 needs at least one of P, S"),
        ("G1 Q5", "does not take parameter Q"),
        ("G1 X", "has no value"),
        ("G1 X1 X2", "given twice"),
        ("G1 F0 X1", "feed rate"),
        ("G1 X5000", "absurd coordinate"),
        ("G1 E50", "absurd volume"),
        ("G1 E-0.5", "below an empty syringe"),
        ("G4 P-5", "dwell cannot be negative"),
        ("M92 E0", "must be positive"),
        ("N5 G1 X1*33", "line numbers and checksums"),
        ("G1 X1é", "non-ASCII"),
        ("G1 X1\x07", "control characters"),
        ("X10 Y10", "must start with G or M"),
        ("G1 X1 #$%", "cannot read"),
        ("G1 X" + "1" * 300, "characters long"),
        ("G1 X1e9", "looks like scientific notation"),
        ("G1 Z2.E-3 F100", "looks like scientific notation"),
        ("G1 X10E5", "looks like scientific notation"),
    ],
)
def test_bad_lines_are_refused_with_their_line_number(line: str, reason: str) -> None:
    with pytest.raises(GCodeValidationError) as info:
        parse_program(["G21", "; fine", line], source="prog.gcode")
    (problem,) = info.value.problems
    assert problem.line_no == 3
    assert reason in problem.reason
    assert "line 3" in str(info.value) and "nothing was sent" in str(info.value)


def test_every_problem_is_listed() -> None:
    with pytest.raises(GCodeValidationError) as info:
        parse_program(["G7", "G1 X1", "M999", "G1 E20"])
    assert [p.line_no for p in info.value.problems] == [1, 3, 4]


def test_volume_tracking_follows_relative_and_absolute_e() -> None:
    # G91 makes E relative until M82; the shared programs rely on M82 after G91.
    parse_program(["G91", "M82", "G1 E0.2", "G1 E0"])
    with pytest.raises(GCodeValidationError, match="below an empty syringe"):
        parse_program(["G91", "G1 E0.2", "G1 E-0.3"])
    with pytest.raises(GCodeValidationError, match="absurd volume"):
        parse_program(["M83"] + ["G1 E3"] * 4, limits=GCodeLimits(max_volume_ml=10))
    parse_program(["G92 E5", "G1 E1"])


def test_empty_program_is_refused() -> None:
    with pytest.raises(GCodeValidationError, match="no commands"):
        parse_program(["; nothing", ""])


@given(st.lists(st.text(max_size=80), max_size=20))
def test_arbitrary_text_is_parsed_or_refused_never_crashes(lines: list[str]) -> None:
    try:
        commands = parse_program(lines)
    except GCodeValidationError as exc:
        assert exc.problems and all(p.line_no >= 0 for p in exc.problems)
    else:
        assert all(c.code[0] in "GM" for c in commands)
