"""Bad input at the learning loop's boundaries: corpus directories, base-model directories, evaluation CSVs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from labloop.training.corpus_input import open_corpus
from labloop.training.errors import BaseModelError, CorpusInputError, EvalDataError
from labloop.training.evaluate.data import read_eval_data
from labloop.training.pretrain.base_model import check_base_model_dir
from tests.training.corpus_fixture import write_corpus


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "corpus", repeats=1)


def test_good_corpus_opens(corpus: Path) -> None:
    opened = open_corpus(corpus)
    assert opened.trained_csv and opened.unseen_csv and len(opened.manifest_hash) == 64
    assert len(opened.load_dataset()["train"]) > 0


def test_corpus_file_changed_after_build_is_refused(corpus: Path) -> None:
    with (corpus / "eval" / "unseen.csv").open("a") as handle:
        handle.write("sneaky,CCO,-114,degC\n")
    with pytest.raises(CorpusInputError, match="does not match its manifest"):
        open_corpus(corpus)


def test_corpus_missing_file_is_refused(corpus: Path) -> None:
    (corpus / "eval" / "trained.csv").unlink()
    with pytest.raises(CorpusInputError, match="missing"):
        open_corpus(corpus)


@pytest.mark.parametrize("manifest", ["not json", "[1, 2]", "{}", '{"outputs": {"files": {"x": "nothex"}}}',
                                      '{"outputs": {"files": {"../../etc/passwd": "' + "a" * 64 + '"}}}'])
def test_bad_manifests_are_refused(corpus: Path, manifest: str) -> None:
    (corpus / "manifest.json").write_text(manifest)
    with pytest.raises(CorpusInputError):
        open_corpus(corpus)


def test_not_a_corpus(tmp_path: Path) -> None:
    with pytest.raises(CorpusInputError, match="does not exist"):
        open_corpus(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusInputError, match="manifest.json"):
        open_corpus(tmp_path / "empty")


def test_base_model_checks(tmp_path: Path, tiny_registry) -> None:
    _, result, _ = tiny_registry
    assert check_base_model_dir(result.base_model)["model_type"] == "llama"
    with pytest.raises(BaseModelError, match="does not exist"):
        check_base_model_dir(tmp_path / "missing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(BaseModelError, match="not a directory"):
        check_base_model_dir(tmp_path / "file")
    bad = tmp_path / "bert"
    bad.mkdir()
    with pytest.raises(BaseModelError, match="no config.json"):
        check_base_model_dir(bad)
    (bad / "config.json").write_text(json.dumps({"model_type": "vit", "architectures": ["ViTModel"]}))
    with pytest.raises(BaseModelError, match="not a causal language model"):
        check_base_model_dir(bad)
    (bad / "config.json").write_text(json.dumps({"model_type": "bert", "architectures": ["BertForMaskedLM"]}))
    with pytest.raises(BaseModelError, match="not a \\*ForCausalLM"):
        check_base_model_dir(bad)
    (bad / "config.json").write_text("{broken")
    with pytest.raises(BaseModelError, match="not readable JSON"):
        check_base_model_dir(bad)
    classifier = tmp_path / "classifier"
    shutil.copytree(result.base_model, classifier)
    config = json.loads((classifier / "config.json").read_text())
    config["architectures"] = ["LlamaForSequenceClassification"]
    (classifier / "config.json").write_text(json.dumps(config))
    with pytest.raises(BaseModelError, match="not a \\*ForCausalLM"):
        check_base_model_dir(classifier)
    weightless = tmp_path / "weightless"
    shutil.copytree(result.base_model, weightless)
    for weights in weightless.glob("*.safetensors"):
        weights.unlink()
    with pytest.raises(BaseModelError, match="no weights"):
        check_base_model_dir(weightless)


def test_hub_ids_are_never_fetched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BaseModelError, match="does not exist"):
        check_base_model_dir(Path("meta-llama/Llama-3.1-8B-Instruct"))


def test_eval_csv_rows_and_rejects(tmp_path: Path) -> None:
    path = tmp_path / "eval.csv"
    path.write_text(
        "name,smiles,value,unit\n"
        "benzoic acid,OC(=O)c1ccccc1,395.15,K\n"
        "bad value,CCO,hot,degC\n"
        "bad unit,CCO,12,parsec\n"
        "no smiles,,12,degC\n"
        "nan,CCO,nan,degC\n"
        "odd smiles,c1cncn1,90,degC\n"
        "extra,CCO,1,degC,surplus\n"
    )
    data = read_eval_data(path)
    assert [r.name for r in data.rows] == ["benzoic acid", "odd smiles"]
    assert data.rows[0].value_c == pytest.approx(122.0) and data.rows[0].inchikey
    assert data.rows[1].inchikey is None  # kept for prompting, by its raw SMILES
    assert sum(data.skipped.values()) == 5


@pytest.mark.parametrize(("content", "message"), [
    (b"", "empty"),
    (b"a,b\n1,2\n", "expected name,smiles,value,unit"),
    (b"name,smiles,value,unit\nx,,1,degC\n", "no usable rows"),
    (b"\xff\xfen\x00a\x00", "UTF-16"),
    (b"name,smiles,value,unit\n\xe9t\xe9,CCO,1,degC\n", "not UTF-8"),
])
def test_eval_csv_unusable(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(EvalDataError, match=message):
        read_eval_data(path)


def test_eval_csv_missing(tmp_path: Path) -> None:
    with pytest.raises(EvalDataError, match="does not exist"):
        read_eval_data(tmp_path / "none.csv")


def test_bradley_format_is_read_as_consensus(tmp_path: Path) -> None:
    path = tmp_path / "bradley.csv"
    path.write_text(
        "key,name,smiles,mpC,csid,link,source,donotuse,donotusebecause\n"
        "1,benzoic acid,OC(=O)c1ccccc1,120,,,,,\n"
        "2,benzoic acid,c1ccccc1C(=O)O,124,,,,,\n"
        "3,benzoic acid,OC(=O)c1ccccc1,200,,,,,\n"
        "4,salt,[Na+].[Cl-],801,,,,x,salt\n"
        "5,imidazole,c1cncn1,90,,,,,\n"
    )
    data = read_eval_data(path)
    assert len(data.rows) == 1 and data.rows[0].value_c == 124.0  # median of 120, 124, 200
    assert sum(data.skipped.values()) == 2
