"""Number fidelity: what a generated text may and may not contain, with the facts it was written from."""

from __future__ import annotations

import pytest

from labloop.training.corpus.facts import facts_from_records
from labloop.training.corpus.fidelity import FidelityChecker


def fact(name: str, smiles: str, value: float, **extra) -> dict:
    return {"id": f"prop:{name}", "kind": "property", "name": name, "smiles": smiles, "property": "melting_point",
            "value": value, "unit": "degC", **extra}


@pytest.fixture
def dnp_and_naphthalene():
    facts, rejects = facts_from_records([
        fact("2,4-dinitrophenol", "Oc1ccc(cc1[N+]([O-])=O)[N+]([O-])=O", 114.5, n_measurements=3, min=113.0, max=116.0),
        fact("naphthalene", "c1ccc2ccccc2c1", 80.2),
    ])
    assert not rejects
    return facts


GOOD = ("2,4-Dinitrophenol (Oc1ccc(cc1[N+]([O-])=O)[N+]([O-])=O) melts at 114.5 °C, or about 387.65 K, a value "
        "confirmed by three measurements between 113 and 116 °C. Naphthalene, c1ccc2ccccc2c1, melts at 80.2 °C; "
        "the two compounds differ in hydrogen bonding.")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (GOOD, ""),
        (GOOD.replace("387.65 K", "390 K"), "foreign_number"),
        (GOOD + " Its density is 1.68 g/cm3.", "foreign_number"),
        (GOOD.replace("melts at 80.2 °C", "melts readily"), "missing_target"),
        (GOOD.replace("Naphthalene, c1ccc2ccccc2c1,", "The hydrocarbon"), "missing_compound"),
        ("", "empty"),
        ("   \n ", "empty"),
        ("Naphthalene melts at 80.2 °C.", "too_short"),
        ("Prepare textbook-style text according to the following data. Never include any other number which is "
         "not given from the data.", "echo_of_prompt"),
        (GOOD + " Four other phenols melt higher.", "foreign_number"),
        # the right number in the wrong unit is a wrong value
        (GOOD.replace("80.2 °C", "80.2 K"), "foreign_number"),
        (GOOD.replace("about 387.65 K", "about 387.65 °F"), "foreign_number"),
        (GOOD.replace("about 387.65 K", "about 238.1 °F"), ""),
        (GOOD.replace("about 387.65 K", "about 387.65 kelvin"), ""),
        (GOOD.replace("about 387.65 K", "about 1.1e2 °C"), ""),
        (GOOD + " It was first made 1.5e3 years ago.", "foreign_number"),
        (GOOD + " About one hundred degrees separate them.", "foreign_number"),
        (GOOD + " A dozen groups reported it.", "foreign_number"),
        (GOOD + " Nitration is 5x faster.", "foreign_number"),
    ],
)
def test_styled_texts(dnp_and_naphthalene, text: str, reason: str) -> None:
    verdict = FidelityChecker().check(text, dnp_and_naphthalene, kind="styled")
    assert verdict.reason == reason, verdict


def test_reason_must_end_with_the_true_value(dnp_and_naphthalene) -> None:
    dnp = dnp_and_naphthalene[:1]
    body = ("2,4-dinitrophenol has two nitro groups and a phenolic OH that forms an intramolecular hydrogen bond, "
            "which lowers intermolecular association.")
    checker = FidelityChecker()
    assert checker.check(body + " Therefore, its melting point is 114.5 °C.", dnp, kind="reason").ok
    assert checker.check(body + " Therefore, it melts at 387.65 K.", dnp, kind="reason").ok
    late = checker.check("It melts at 114.5 °C. " + body, dnp, kind="reason")
    assert late.reason == "reason_not_ending_in_value"
    wrong = checker.check(body + " Therefore, its melting point is 120 °C.", dnp, kind="reason")
    assert wrong.reason == "foreign_number"


def test_run_facts_allow_the_numbers_in_their_data() -> None:
    facts, _ = facts_from_records([{
        "id": "run:7", "kind": "run",
        "data": {"run": "PAA particles 7", "dispenses": ["dispense 2.5 mL NMP"], "turbidity": [{"minute": 30, "score": 3.5}],
                 "results": ["particle diameter: 850 nm"]},
        "targets": [{"value": 850, "label": "particle diameter"}],
    }])
    checker = FidelityChecker()
    ok = ("In run PAA particles 7 the robot dispensed 2.5 mL of NMP; after 30 minutes the turbidity score was 3.5 "
          "and SEM showed particles of 850 nm.")
    assert checker.check(ok, facts, kind="styled").ok
    assert checker.check(ok.replace("850 nm", "large particles"), facts, kind="styled").reason == "missing_target"
    assert checker.check(ok.replace("30 minutes", "45 minutes"), facts, kind="styled").reason == "foreign_number"
