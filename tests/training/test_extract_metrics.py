"""#Prediction extraction (every documented odd answer) and the metric definitions."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labloop.training.evaluate import EvalPrompt, compute_metrics, extract_prediction


@pytest.mark.parametrize(("answer", "value", "outcome"), [
    ("#Reason: a carboxylic acid dimerises.\n#Prediction: 122", 122.0, "ok"),
    ("#Prediction:\n122.5", 122.5, "ok"),
    ("**#Prediction:** 80.", 80.0, "ok"),
    ("## Prediction: 77\n#Note: 5 other numbers 9", 77.0, "ok"),
    ("#Prediction: 3.5e2", 350.0, "ok"),
    ("#Prediction: -12", -12.0, "ok"),
    ("#Prediction: 122 °C", 122.0, "ok"),
    ("#Prediction: 122 degC", 122.0, "ok"),
    ("#Prediction: 395.15 K", 122.0, "ok"),                 # converted to the asked unit
    ("#Prediction: 212 degrees Fahrenheit", 100.0, "ok"),
    ("#Prediction: 120-125", 122.5, "range"),               # a range counts as its midpoint
    ("#Prediction: 120 to 125 °C", 122.5, "range"),
    ("#Prediction: 120–125", 122.5, "range"),
    ("#Prediction: 125-120", None, "ambiguous"),            # a reversed range is not a range
    ("#Prediction: 120 or 130", None, "ambiguous"),         # two numbers
    ("#Prediction: 120, 130", None, "ambiguous"),
    ("#Prediction: 1,234", None, "ambiguous"),
    ("#Prediction: N/A", None, "no_number"),
    ("#Prediction: unknown", None, "no_number"),
    ("#Prediction: 120 kPa", None, "bad_unit"),
    ("The melting point is 122 degC.", None, "missing"),     # no #Prediction section
    ("", None, "missing"),
    ("#Prediction: 10\n#Prediction: 122", 122.0, "ok"),     # the last section is the answer
    ("#Prediction: ~122 °C", 122.0, "ok"),                  # approximate: the number
    ("#Prediction: ≈122", 122.0, "ok"),
    ("#Prediction: approximately 122", 122.0, "ok"),
    ("#Prediction: 122±5", 122.0, "ok"),                    # with an uncertainty: the number
    ("#Prediction: 122 ± 5 °C", 122.0, "ok"),
    ("#Prediction: −40 °C", -40.0, "ok"),                   # unicode minus
    ("#Prediction: 122 ℃", 122.0, "ok"),
    ("#Prediction: 122°", 122.0, "ok"),                     # bare degree sign: the asked unit
    ("#Prediction: 122\nThis is because of 2 H-bond donors.", 122.0, "ok"),  # the first line is the answer
    ("#Prediction: 120 or 130\nmore text", None, "ambiguous"),
    ("#Prediction: 1e999", None, "no_number"),              # not a finite number
])
def test_extraction_outcomes(answer: str, value: float | None, outcome: str) -> None:
    found = extract_prediction(answer, unit="degC")
    assert found.outcome == outcome
    if value is None:
        assert found.value is None and not found.answered
    else:
        assert found.value == pytest.approx(value, abs=1e-6)


def test_extraction_in_kelvin_prompt() -> None:
    assert extract_prediction("#Prediction: 122 degC", unit="K").value == pytest.approx(395.15)
    assert extract_prediction("#Prediction: 395", unit="K").value == 395.0


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_extraction_never_raises(answer: str) -> None:
    found = extract_prediction(answer)
    assert found.outcome in {"ok", "range", "missing", "no_number", "ambiguous", "bad_unit"}
    assert (found.value is None) == (found.outcome not in {"ok", "range"})


def test_prompt_is_the_source_prompt() -> None:
    text = EvalPrompt().render(name="benzoic acid", smiles="OC(=O)c1ccccc1")
    assert text == (
        "Predict the melting point (degC) of the following compound.\n"
        '#Restriction: Output can contain "#Reason" section which explains the reasoning behind the prediction.\n'
        'Output must contain "#Prediction" section which contains only the predicted value (number only).\n'
        "#Name: benzoic acid\n#SMILES: OC(=O)c1ccccc1\n"
    )
    assert EvalPrompt(unit="K").template_hash != EvalPrompt().template_hash


def test_metrics_known_values() -> None:
    truth = [100.0, 200.0, 0.0, 50.0]
    pred = [110.0, 170.0, 5.0, None]
    m = compute_metrics(truth, pred)
    assert m["n"] == 4 and m["answered"] == 3 and m["answer_rate"] == 0.75
    assert m["mae_k"] == pytest.approx(15.0)
    assert m["rmse_k"] == pytest.approx(math.sqrt((100 + 900 + 25) / 3), abs=1e-4)
    assert m["medae_k"] == 10.0
    assert m["within_25k"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["r2"] == pytest.approx(1 - 1025 / 20000, abs=1e-4)  # answered truths 100, 200, 0: mean 100
    assert m["median_rel_err"] == pytest.approx(0.125)  # 0 degC rows are left out of the relative error


def test_metrics_degenerate_cases() -> None:
    empty = compute_metrics([], [])
    assert empty["n"] == 0 and empty["answer_rate"] is None and empty["mae_k"] is None
    none = compute_metrics([1.0, 2.0], [None, None])
    assert none["answered"] == 0 and none["mae_k"] is None and none["r2"] is None
    one = compute_metrics([10.0], [12.0])
    assert one["mae_k"] == 2.0 and one["r2"] is None
    with pytest.raises(ValueError):
        compute_metrics([1.0], [])
