"""Fact records in: validation with counted rejects, and the JSONL reader's tolerance of broken lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labloop.training.corpus.facts import FactsFileError, facts_from_records, read_facts_jsonl


def prop(id_: str, value, **kw) -> dict:
    return {"id": id_, "kind": "property", "name": "urea", "smiles": "NC(N)=O", "property": "melting_point",
            "value": value, "unit": "degC", **kw}


def test_bad_records_are_rejected_with_reasons_and_the_rest_kept() -> None:
    records = [
        prop("a", 133.0), prop("a", 134.0), prop("b", None), prop("c", "hot"), prop("d", float("nan")),
        prop("e", 12.0, smiles="c1cncn1"), prop("f", True), {"kind": "property"}, "not a dict",
        {"id": "g", "kind": "gossip"}, {"id": "h", "kind": "run", "data": {}}, prop("i", "80.5"),
        {"id": "j", "kind": "run", "data": {"x": 1}, "targets": [{"value": "n/a"}]},
    ]
    facts, rejects = facts_from_records(records)
    assert [f.id for f in facts] == ["a", "i"]
    assert facts[1].value == 80.5
    assert rejects == {"duplicate_id": 1, "missing_value": 1, "non_numeric_value": 4, "invalid_smiles": 1,
                       "missing_id": 2, "unknown_kind": 1, "missing_data": 1}


def test_property_fact_shape() -> None:
    [fact], _ = facts_from_records([prop("p", 804.0000000000001, n_measurements=3, min=801, max=806,
                                         names=["Urea", "carbamide"])])
    assert fact.inchikey == "XSQUKJJJFZCRTK-UHFFFAOYSA-N"
    assert fact.data["melting point"] == "804 °C"
    assert fact.data["reported range"] == "801 to 806 °C"
    assert fact.names == ("urea", "Urea", "carbamide")
    assert [q.value for q in fact.quantities] == [804.0000000000001, 3, 801, 806]


def test_jsonl_reader(tmp_path: Path) -> None:
    path = tmp_path / "facts.jsonl"
    path.write_text(json.dumps(prop("a", 1.0)) + "\n{broken\n\n" + json.dumps(prop("b", 2.0)) + "\n")
    records, rejects = read_facts_jsonl(path)
    assert len(records) == 2 and rejects == {"malformed_json": 1}
    bad = tmp_path / "bad.jsonl"
    bad.write_text("name,smiles\nurea,NC(N)=O\n")
    with pytest.raises(FactsFileError, match="expected JSONL"):
        read_facts_jsonl(bad)
    with pytest.raises(FactsFileError, match="does not exist"):
        read_facts_jsonl(tmp_path / "missing.jsonl")
