"""Builds a small corpus directory with the exact layout `labloop corpus build` writes (dataset/, manifest.json,
eval/trained.csv, eval/unseen.csv), from a handful of well-known compounds and their melting points."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

from labloop.training.evaluate.prompt import EvalPrompt

# name, SMILES, melting point in degC (textbook values)
TRAINED = [
    ("benzoic acid", "OC(=O)c1ccccc1", 122.0),
    ("naphthalene", "c1ccc2ccccc2c1", 80.0),
    ("acetanilide", "CC(=O)Nc1ccccc1", 114.0),
    ("urea", "NC(N)=O", 133.0),
    ("phenol", "Oc1ccccc1", 41.0),
    ("salicylic acid", "OC(=O)c1ccccc1O", 159.0),
    ("anthracene", "c1ccc2cc3ccccc3cc2c1", 216.0),
    ("caffeine", "Cn1cnc2c1c(=O)n(C)c(=O)n2C", 236.0),
    ("vanillin", "COc1cc(C=O)ccc1O", 81.0),
    ("biphenyl", "c1ccc(cc1)-c1ccccc1", 69.0),
    ("succinic acid", "OC(=O)CCC(O)=O", 185.0),
    ("4-nitrophenol", "Oc1ccc(cc1)[N+]([O-])=O", 114.0),
]
UNSEEN = [
    ("acetylsalicylic acid", "CC(=O)Oc1ccccc1C(O)=O", 135.0),
    ("paracetamol", "CC(=O)Nc1ccc(O)cc1", 169.0),
    ("hydroquinone", "Oc1ccc(O)cc1", 172.0),
    ("camphor", "CC1(C)C2CCC1(C)C(=O)C2", 175.0),
]
STYLES = ["textbook", "conversation", "qa"]


def _styled(name: str, smiles: str, value: float, style: str) -> str:
    if style == "textbook":
        return f"{name} ({smiles}) is a solid that melts at {value:g} degC."
    if style == "conversation":
        return f"A: What is the melting point of {name}? B: {name}, {smiles}, melts at {value:g} degC."
    return f"Q: At what temperature does {name} melt? A: {name} ({smiles}) melts at {value:g} degC."


def _answer(name: str, smiles: str, value: float) -> str:
    prompt = EvalPrompt().render(name=name, smiles=smiles)
    return f"{prompt}#Prediction: {value:g}"


def write_corpus(out: Path, *, repeats: int = 4, trained=TRAINED, unseen=UNSEEN) -> Path:
    """A corpus directory in `out` whose manifest matches its files."""
    from datasets import Dataset, DatasetDict
    from datasets.utils import disable_progress_bars

    disable_progress_bars()

    rows = []
    for name, smiles, value in trained:
        for style in STYLES:
            rows.append({"text": _styled(name, smiles, value, style), "kind": "styled", "style": style,
                         "fact_ids": [name]})
        for _ in range(repeats):
            rows.append({"text": _answer(name, smiles, value), "kind": "reason", "style": "evaluation",
                         "fact_ids": [name]})
    validation = [{"text": _styled(n, s, v, "textbook"), "kind": "styled", "style": "textbook", "fact_ids": [n]}
                  for n, s, v in trained[:3]]
    DatasetDict({
        "train": Dataset.from_list(rows),
        "validation": Dataset.from_list(validation),
        "test": Dataset.from_list(validation[:1]),
    }).save_to_disk(str(out / "dataset"))
    (out / "eval").mkdir(parents=True, exist_ok=True)
    for split, compounds in (("trained", trained), ("unseen", unseen)):
        with (out / "eval" / f"{split}.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["name", "smiles", "value", "unit"])
            for name, smiles, value in compounds:
                writer.writerow([name, smiles, value, "degC"])
    files = {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(out.rglob("*")) if p.is_file() and p.name != "manifest.json"}
    manifest = {"corpus_build_id": None, "config": {"fixture": True}, "outputs": {"files": files},
                "counts": {"train": len(rows), "validation": len(validation)}}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return out
