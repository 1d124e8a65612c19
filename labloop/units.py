"""Temperature units. K and degC differences are equal; degF differences are 5/9 of them."""

from __future__ import annotations

ABSOLUTE_ZERO_C = -273.15

_ALIASES = {
    "degc": "degC", "c": "degC", "°c": "degC", "celsius": "degC",
    "k": "K", "kelvin": "K",
    "degf": "degF", "f": "degF", "°f": "degF", "fahrenheit": "degF",
}


def normalize_unit(unit: str) -> str:
    """Canonical spelling (degC, K, degF) of a temperature unit; ValueError for anything else."""
    try:
        return _ALIASES[unit.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown temperature unit {unit!r}; use degC, K or degF") from None


def to_celsius(value: float, unit: str) -> float:
    unit = normalize_unit(unit)
    if unit == "K":
        return value + ABSOLUTE_ZERO_C
    if unit == "degF":
        return (value - 32.0) * 5.0 / 9.0
    return value


def from_celsius(value_c: float, unit: str) -> float:
    unit = normalize_unit(unit)
    if unit == "K":
        return value_c - ABSOLUTE_ZERO_C
    if unit == "degF":
        return value_c * 9.0 / 5.0 + 32.0
    return value_c


def convert(value: float, from_unit: str, to_unit: str) -> float:
    return from_celsius(to_celsius(value, from_unit), to_unit)
