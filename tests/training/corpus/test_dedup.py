"""Exact and near-duplicate removal."""

from __future__ import annotations

from labloop.training.corpus.dedup import Deduplicator

TEXT = ("Benzoic acid melts at 122 °C because its carboxylic acid groups pair into hydrogen-bonded dimers that "
        "pack into a stable, planar crystal lattice; breaking that lattice takes considerable energy.")


def test_exact_and_near_duplicates() -> None:
    dedup = Deduplicator(threshold=0.8)
    assert dedup.seen(TEXT) == ""
    assert dedup.seen("  " + TEXT.upper().replace(" ", "   ")) == "duplicate_exact"
    assert dedup.seen(TEXT.replace("considerable", "much")) == "duplicate_near"
    assert dedup.seen("Naphthalene sublimes readily at room temperature and its flat rings stack in the crystal.") == ""
    assert dedup.seen("") == ""
    assert dedup.seen("") == "duplicate_exact"
