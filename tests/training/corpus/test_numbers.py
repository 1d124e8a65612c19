"""Reading numbers out of prose: what counts as a number, and how fact values may be written."""

from __future__ import annotations

import pytest

from labloop.training.corpus.numbers import Quantity, decimals_of, find_numbers, first_match, format_value


def values(text: str) -> list[float]:
    return [n.value for n in find_numbers(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It melts at 80.5 °C (353.65 K).", [80.5, 353.65]),
        ("cooled to -12 °C, then −5.5 °C", [-12.0, -5.5]),
        ("a range of 79–82 °C", [79.0, 82.0]),
        ("1,250 measurements were taken at 353K", [1250.0, 353.0]),
        ("2,4-dinitrophenol and 1,3,5-trinitrobenzene", []),
        ("benzene, C6H6, c1ccccc1, is sp3-free; [N+]([O-])=O", []),
        ("three compounds and twenty-five samples; one of them", [3.0, 25.0]),
        ("heated for a 12-hour period at 80-degree", [12.0, 80.0]),
        ("the 4th entry and 2H-pyran", []),
        ("the ISO date 2024-05-01", [2024.0, 5.0, 1.0]),
        ("1.22e2 °C, 1.22 × 10^2 °C and 1.2×10² K", [122.0, 122.0, 120.0]),    # scientific notation
        ("about a hundred grams, a dozen runs, one hundred and twenty-two degrees", [100.0, 12.0, 122.0]),
        ("two hundred samples; hundreds of compounds", [200.0]),
        ("a 12x faster rate", [12.0]),
    ],
)
def test_find_numbers(text: str, expected: list[float]) -> None:
    assert values(text) == expected


def test_conversions_and_rounding_are_allowed_but_nothing_else() -> None:
    allowed = Quantity(80.5, "degC").variants()
    for written in ("80.5", "81", "80", "353.65", "353.7", "354", "176.9", "177"):
        assert first_match(find_numbers(f"value {written} here")[0], allowed), written
    for written in ("82", "80.7", "350", "176.5", "90"):
        assert not first_match(find_numbers(f"value {written} here")[0], allowed), written


def test_negative_values_may_be_written_as_magnitudes() -> None:
    allowed = Quantity(-20.0, "degC").variants()
    assert first_match(find_numbers("minus 20 degrees")[0], allowed)
    assert first_match(find_numbers("at 253.15 K")[0], allowed)


def test_float_noise_is_not_precision() -> None:
    assert decimals_of(804.0000000000001) == 0
    assert format_value(804.0000000000001) == "804"
    assert format_value(80.25) == "80.25"
    assert format_value(-0.1) == "-0.1"


def test_spelled_structure_counts_are_not_data() -> None:
    assert values("two nitro groups, a six-membered ring and three hydrogen bond donors") == []
    assert values("two measurements and three samples") == [2.0, 3.0]


@pytest.mark.parametrize(("text", "unit"), [
    ("353 K", "K"), ("353K", "K"), ("80 °C", "degC"), ("80°C", "degC"), ("80 ℃", "degC"), ("176 °F", "degF"),
    ("176 degrees Fahrenheit", "degF"), ("80 deg C", "degC"), ("353 kelvin", "K"), ("80 degrees", None),
    ("80 mL", None), ("80", None), ("1.22e2 °C", "degC"),
])
def test_temperature_unit_written_after_a_number(text: str, unit: str | None) -> None:
    assert find_numbers(text)[0].unit == unit


def test_a_written_unit_allows_only_the_conversion_to_it() -> None:
    fact = Quantity(122.0, "degC")
    kelvin = find_numbers("122 K")[0]
    assert not first_match(kelvin, fact.variants(kelvin.unit))
    assert first_match(find_numbers("395 K")[0], fact.variants("K"))
    assert first_match(find_numbers("122 degrees")[0], fact.variants(None))
    assert first_match(find_numbers("minus 4 °F")[0], Quantity(-20.0, "degC").variants("degF"))
