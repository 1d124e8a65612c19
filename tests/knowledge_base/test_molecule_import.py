"""Importing property CSVs: well-known compounds, every kind of bad row, idempotence, and files that cannot be read."""

import csv
import json
from pathlib import Path

import pytest
from sqlmodel import Session, select

from labloop.knowledge_base.measurement_csv import CsvFormatError
from labloop.knowledge_base.molecule_import import import_measurements_csv
from labloop.knowledge_base.models import Molecule, MoleculeName, PropertyConsensus, PropertyMeasurement
from labloop.knowledge_base.stats import table_counts

HEADER = ["key", "name", "smiles", "mpC", "csid", "link", "source", "donotuse", "donotusebecause"]
GOOD = [
    ["1", "benzoic acid", "OC(=O)c1ccccc1", "122.4", "", "", "Alfa Aesar", "", ""],
    ["2", "Benzoic acid", "c1ccccc1C(=O)O", "122.0", "", "", "Sigma", "", ""],
    ["3", "benzoic acid", "C1=CC=CC=C1C(O)=O", "121.0", "", "", "Merck", "", ""],
    ["4", "naphthalene", "c1ccc2ccccc2c1", "80.26", "", "", "Alfa Aesar", "", ""],
    ["5", "p-toluenesulfonyl chloride", "Cc1ccc(cc1)S(Cl)(=O)=O", "69.0", "", "", "TCI", "", ""],
    ["6", "urea", "NC(N)=O", "133.0000000000001", "", "", "Alfa Aesar", "", ""],
    ["7", "trans-2-butene", "C/C=C/C", "-105.5", "", "", "academic website", "", ""],
]
BAD = [
    ["8", "imidazole as written", "c1cncn1", "90", "", "", "x", "", ""],
    ["9", "sodium chloride", "[Na+].[Cl-]", "801", "", "", "x", "", ""],
    ["10", "flagged", "CCO", "-114", "", "", "x", "x", "value likely in kelvin"],
    ["11", "no number", "CCCO", "about 20", "", "", "x", "", ""],
    ["12", "too hot", "CCCCO", "2500", "", "", "x", "", ""],
    ["13", "too cold", "CCCCCO", "-300", "", "", "x", "", ""],
    ["1", "duplicate key", "CC", "-182", "", "", "x", "", ""],
    ["14", "empty smiles", "", "10", "", "", "x", "", ""],
    ["15", "nan", "CCC", "nan", "", "", "x", "", ""],
]
EXPECTED_REASONS = {
    "8": "unparseable", "9": "salt or mixture", "10": "do-not-use: value likely in kelvin",
    "11": "non-numeric", "12": "above 2000", "13": "absolute zero", "1": "duplicate key", "14": "empty SMILES",
    "15": "non-finite",
}


def write_csv(path: Path, rows, header=HEADER, encoding="utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_import_keeps_every_measurement_and_a_median_consensus(engine, tmp_path):
    path = write_csv(tmp_path / "mp.csv", GOOD + BAD)
    summary = import_measurements_csv(engine, path, reports_dir=tmp_path / "reports")
    assert summary.measurements_added == 7
    assert summary.structures == 5
    assert summary.rejected == len(BAD)
    assert summary.line() == "imported 7 measurements of 5 structures, 9 rejected"
    with Session(engine) as s:
        benzoic = s.exec(select(Molecule).where(Molecule.smiles == "O=C(O)c1ccccc1")).one()
        consensus = s.exec(select(PropertyConsensus).where(PropertyConsensus.molecule_id == benzoic.id)).one()
        assert (consensus.value, consensus.n_measurements) == (122.0, 3)
        assert (consensus.min_value, consensus.max_value) == (121.0, 122.4)
        sources = s.exec(select(PropertyMeasurement.source).where(PropertyMeasurement.molecule_id == benzoic.id))
        assert sorted(sources) == ["Alfa Aesar", "Merck", "Sigma"]
        names = s.exec(select(MoleculeName.name).where(MoleculeName.molecule_id == benzoic.id)).all()
        assert sorted(names) == ["Benzoic acid", "benzoic acid"]
        urea = s.exec(select(PropertyMeasurement).where(PropertyMeasurement.source_key == "6")).one()
        assert urea.value == 133.0  # float noise folded
        tosyl = s.exec(select(Molecule).where(Molecule.name == "p-toluenesulfonyl chloride")).one()
        assert tosyl.inchikey == "YYROPELSRYBVMQ-UHFFFAOYSA-N"


def test_rejects_report_names_row_and_reason(engine, tmp_path):
    path = write_csv(tmp_path / "mp.csv", GOOD + BAD)
    summary = import_measurements_csv(engine, path, reports_dir=tmp_path / "reports")
    with open(summary.rejects_report, newline="") as fh:
        rejects = list(csv.DictReader(fh))
    assert len(rejects) == len(BAD)
    for row in rejects:
        assert EXPECTED_REASONS[row["key"]] in row["reason"], row
    lines = {row["key"]: int(row["line"]) for row in rejects}
    assert lines["8"] == 2 + len(GOOD)  # header is line 1


def test_second_import_adds_nothing(engine, tmp_path):
    path = write_csv(tmp_path / "mp.csv", GOOD + BAD)
    import_measurements_csv(engine, path)
    before = table_counts(engine)
    again = import_measurements_csv(engine, path)
    assert again.measurements_added == 0 and again.already_present == 7 and again.new_structures == 0
    assert table_counts(engine) == before


def test_another_dataset_adds_measurements_and_moves_the_consensus(engine, tmp_path):
    import_measurements_csv(engine, write_csv(tmp_path / "a.csv", GOOD))
    more = [["1", "naphthalene", "c1ccc2ccccc2c1", "81.0", "", "", "CRC", "", ""],
            ["2", "naphthalene", "C1=CC=C2C=CC=CC2=C1", "82.0", "", "", "CRC", "", ""]]
    summary = import_measurements_csv(engine, write_csv(tmp_path / "b.csv", more), dataset="crc")
    assert summary.measurements_added == 2 and summary.new_structures == 0
    with Session(engine) as s:
        naph = s.exec(select(Molecule).where(Molecule.smiles == "c1ccc2ccccc2c1")).one()
        consensus = s.exec(select(PropertyConsensus).where(PropertyConsensus.molecule_id == naph.id)).one()
        assert consensus.value == 81.0 and consensus.n_measurements == 3


def test_kelvin_input_is_checked_in_kelvin(engine, tmp_path):
    rows = [["1", "benzene", "c1ccccc1", "278.6", "", "", "x", "", ""],
            ["2", "cold", "C", "-5", "", "", "x", "", ""]]
    summary = import_measurements_csv(engine, write_csv(tmp_path / "k.csv", rows), unit="K")
    assert summary.measurements_added == 1 and summary.rejected == 1


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is empty"),
        (b"   \n\n", "is empty"),
        (b"a,b\n1,2\n", "lacks column"),
        ("key,name,smiles,mpC\n1,caf\xe9ine,CN1C=NC2=C1C(=O)N(C(=O)N2C)C,235\n".encode("latin-1"), "not UTF-8"),
        ("key,name,smiles,mpC\n".encode("utf-16"), "UTF-16"),
    ],
)
def test_unreadable_files_change_nothing(engine, tmp_path, content, message):
    import_measurements_csv(engine, write_csv(tmp_path / "ok.csv", GOOD))
    before = table_counts(engine)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    with pytest.raises(CsvFormatError, match=message):
        import_measurements_csv(engine, bad)
    assert table_counts(engine) == before


def test_other_encoding_can_be_named(engine, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("key,name,smiles,mpC\n1,caf\xe9ine,CN1C=NC2=C1C(=O)N(C(=O)N2C)C,235\n".encode("latin-1"))
    summary = import_measurements_csv(engine, path, encoding="latin-1")
    assert summary.measurements_added == 1
    with Session(engine) as s:
        assert s.exec(select(Molecule.name)).one() == "caféine"


def test_ragged_rows_newlines_in_quotes_and_mojibake(engine, tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text(
        "key,name,smiles,mpC,source\n"
        '1,"2,4-dinitrophenol",Oc1ccc(cc1[N+](=O)[O-])[N+](=O)[O-],114,"Journal\nwith newline"\n'
        "2,too,many,fields,here,and,more\n"
        "3,Ã©thanol,CCO,-114,x\n",
        encoding="utf-8",
    )
    summary = import_measurements_csv(engine, path, reports_dir=tmp_path)
    assert summary.measurements_added == 2 and summary.rejected == 1
    with open(summary.rejects_report) as fh:
        reject = next(csv.DictReader(fh))
    assert reject["line"] == "4" and "more field(s) than the header" in reject["reason"]
    with Session(engine) as s:
        assert "éthanol" in s.exec(select(MoleculeName.name)).all()


def test_full_bradley_file(sqlite_engine, shared_data, tmp_path):
    """The real file: ~18.4k distinct structures (22k SMILES strings that canonicalise to fewer), rejects listed."""
    path = shared_data / "melting_points" / "bradley_open_mp.csv"
    summary = import_measurements_csv(sqlite_engine, path, reports_dir=tmp_path)
    assert summary.rows == 26_494
    assert summary.structures > 18_000
    assert summary.measurements_added + summary.rejected == summary.rows
    with open(summary.rejects_report) as fh:
        reasons = [row["reason"] for row in csv.DictReader(fh)]
    assert sum("unparseable SMILES" in r for r in reasons) > 150
    assert sum("do-not-use" in r for r in reasons) > 300
    assert sum("salt or mixture" in r for r in reasons) >= 1  # most salts are already curator-flagged
    before = table_counts(sqlite_engine)
    assert import_measurements_csv(sqlite_engine, path).measurements_added == 0
    assert table_counts(sqlite_engine) == before
    assert json.dumps(summary.as_dict())
