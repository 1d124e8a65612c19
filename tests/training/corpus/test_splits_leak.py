"""Compound-level splits, the hold-out list, and the held-out-identifier matcher."""

from __future__ import annotations

from pathlib import Path

import pytest

from labloop.training.corpus.facts import facts_from_records
from labloop.training.corpus.leak import HeldOut, LeakMatcher
from labloop.training.corpus.splits import HoldoutFileError, _scaffold, make_split, read_holdout_csv
from tests.training.corpus.conftest import COMPOUNDS

FACTS, _ = facts_from_records([
    {"id": f"p{i}", "kind": "property", "name": n, "smiles": s, "property": "melting_point", "value": v, "unit": "degC"}
    for i, (n, s, v) in enumerate(COMPOUNDS)
])


def test_random_split_is_seeded_and_sized() -> None:
    a = make_split(FACTS, method="random", test_fraction=0.25, seed=1)
    assert len(a.held_out_keys) == 3
    assert a.held_out_keys == make_split(FACTS, method="random", test_fraction=0.25, seed=1).held_out_keys
    assert make_split(FACTS, method="random", test_fraction=0.0, seed=1).held_out_keys == set()


def test_scaffold_split_holds_out_whole_scaffolds() -> None:
    split = make_split(FACTS, method="scaffold", test_fraction=0.3, seed=3)
    by_key = {f.inchikey: _scaffold(f.smiles) for f in FACTS}
    held_scaffolds = {by_key[k] for k in split.held_out_keys}
    for key, scaffold in by_key.items():
        assert (key in split.held_out_keys) == (scaffold in held_scaffolds)
    assert 0 < len(split.held_out_keys) <= 4


def test_holdout_list_and_shared_names(tmp_path: Path) -> None:
    csv_path = tmp_path / "holdout.csv"
    csv_path.write_text("Name,SMILES,value\ncaffeine,,\n,c1ccccc1O,\nmystery,not-a-smiles,\nunknown thing,CCCCCCCCO,-16.7\n,,\n")
    rows, problems = read_holdout_csv(csv_path)
    assert problems == {"invalid_smiles": 1, "empty_row": 1}
    facts, _ = facts_from_records([*({"id": f.id, "kind": "property", "name": f.name, "smiles": f.smiles,
                                      "property": "melting_point", "value": f.value, "unit": "degC"} for f in FACTS),
                                   {"id": "alias", "kind": "property", "name": "Caffeine", "smiles": "CCO",
                                    "property": "melting_point", "value": -114.1, "unit": "degC"}])
    split = make_split(facts, method="random", test_fraction=0.0, seed=0, holdout_rows=rows)
    held_names = {f.name for f in facts if f.inchikey in split.held_out_keys}
    assert held_names == {"caffeine", "phenol", "Caffeine"}
    assert "unknown thing" in split.held_out.names and "mystery" in split.held_out.names


@pytest.mark.parametrize("content", ["", "foo,bar\n1,2\n"])
def test_holdout_csv_without_identifier_columns(tmp_path: Path, content: str) -> None:
    path = tmp_path / "h.csv"
    path.write_text(content)
    with pytest.raises(HoldoutFileError, match="name, smiles or inchikey"):
        read_holdout_csv(path)


def test_leak_matcher() -> None:
    held = HeldOut()
    held.add(inchikey="RYYVLZVUVIJVGH-UHFFFAOYSA-N", smiles="Cn1cnc2c1c(=O)n(C)c(=O)n2C", names=["Caffeine", "guaranine"])
    held.add(smiles="CCO", names=["TNT"])
    matcher = LeakMatcher(held)
    assert matcher.find("Coffee contains CAFFEINE.") == ["caffeine"]
    assert matcher.find("a caffeine-free drink") == ["caffeine"]
    assert matcher.find("decaffeinated; guaraninesque") == []
    assert matcher.find("see Cn1cnc2c1c(=O)n(C)c(=O)n2C.") == ["Cn1cnc2c1c(=O)n(C)c(=O)n2C"]
    assert matcher.find("CCn1cnc2c1c(=O)n(C)c(=O)n2C is another compound") == []
    assert matcher.find("key RYYVLZVUVIJVGH-UHFFFAOYSA-N") == ["RYYVLZVUVIJVGH-UHFFFAOYSA-N"]
    assert matcher.find("CCO and TNT are too short to search") == []
    assert matcher.describe()["skipped_too_short"] == {"names": 1, "smiles": 1}


def test_leak_matcher_finds_a_held_out_smiles_written_differently() -> None:
    from labloop.knowledge_base.chem import canonicalize

    caffeine = canonicalize("Cn1cnc2c1c(=O)n(C)c(=O)n2C")
    held = HeldOut()
    held.add(inchikey=caffeine.inchikey, smiles=caffeine.smiles, names=["caffeine"])
    matcher = LeakMatcher(held)
    assert matcher.find("Its Kekulé SMILES is CN1C=NC2=C1C(=O)N(C)C(=O)N2C.")
    assert matcher.find("the stimulant (CN1C=NC2=C1C(=O)N(C)C(=O)N2C) is bitter")
    assert matcher.find("another order: O=c1n(C)c(=O)c2n(C)cnc2n1C")
    assert matcher.find("CCn1cnc2c1c(=O)n(C)c(=O)n2C and benzoic acid (OC(=O)c1ccccc1), C6H5COOH") == []
