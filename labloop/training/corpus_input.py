"""Open a corpus directory written by `labloop corpus build`, verifying that its manifest matches its files.

Layout: `dataset/` (a datasets.DatasetDict with train/validation/test, column `text`), `manifest.json`
(with the sha256 of every output file under `outputs.files`) and `eval/trained.csv`, `eval/unseen.csv` (name,smiles,value,unit).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labloop.training.corpus.manifest import sha256_file
from labloop.training.errors import CorpusInputError

log = logging.getLogger(__name__)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class CorpusInput:
    """A verified corpus directory."""

    path: Path
    manifest: dict[str, Any]
    manifest_hash: str
    corpus_build_id: int | None

    @property
    def dataset_dir(self) -> Path:
        return self.path / "dataset"

    @property
    def trained_csv(self) -> Path | None:
        path = self.path / "eval" / "trained.csv"
        return path if path.is_file() else None

    @property
    def unseen_csv(self) -> Path | None:
        path = self.path / "eval" / "unseen.csv"
        return path if path.is_file() else None

    def load_dataset(self):
        from datasets import DatasetDict, load_from_disk

        try:
            data = load_from_disk(str(self.dataset_dir))
        except (FileNotFoundError, ValueError) as exc:
            raise CorpusInputError(f"cannot read the dataset in {self.dataset_dir}: {exc}") from None
        if not isinstance(data, DatasetDict) or "train" not in data:
            raise CorpusInputError(f"{self.dataset_dir} is not a DatasetDict with a train split")
        for split in data.values():
            if "text" not in split.column_names:
                raise CorpusInputError(f"{self.dataset_dir} has no `text` column")
        return data


def _file_hashes(manifest: dict[str, Any]) -> dict[str, str]:
    """relative path -> sha256 from the manifest's `outputs.files` section."""
    outputs = manifest.get("outputs")
    section = outputs.get("files") if isinstance(outputs, dict) else None
    if not isinstance(section, dict) or not section:
        raise CorpusInputError(
            "the corpus manifest lists no file hashes (outputs.files); rebuild it with `labloop corpus build`"
        )
    out: dict[str, str] = {}
    for rel, entry in section.items():
        digest = entry.get("sha256") if isinstance(entry, dict) else entry
        if not isinstance(digest, str) or not _SHA256.match(digest):
            raise CorpusInputError(f"the corpus manifest has no valid sha256 for {rel!r}")
        out[str(rel)] = digest
    return out


def open_corpus(path: Path, *, verify: bool = True) -> CorpusInput:
    """The corpus in `path`; CorpusInputError when it is incomplete or a file differs from its manifest hash."""
    path = Path(path)
    manifest_file = path / "manifest.json"
    if not path.is_dir():
        raise CorpusInputError(f"corpus directory {path} does not exist; build one with `labloop corpus build`")
    if not manifest_file.is_file():
        raise CorpusInputError(f"{path} has no manifest.json: it is not a finished corpus build")
    raw = manifest_file.read_bytes()
    try:
        manifest = json.loads(raw)
    except ValueError as exc:
        raise CorpusInputError(f"{manifest_file} is not valid JSON: {exc}") from None
    if not isinstance(manifest, dict):
        raise CorpusInputError(f"{manifest_file} does not hold a JSON object")
    if not (path / "dataset").is_dir():
        raise CorpusInputError(f"{path} has no dataset/ directory")
    if verify:
        root = path.resolve()
        for rel, expected in _file_hashes(manifest).items():
            target = (path / rel).resolve()
            if root not in target.parents:
                raise CorpusInputError(f"the corpus manifest names {rel!r}, which lies outside {path}")
            if not target.is_file():
                raise CorpusInputError(f"the corpus manifest lists {rel}, which is missing from {path}")
            actual = sha256_file(target)
            if actual != expected:
                raise CorpusInputError(
                    f"{rel} in {path} does not match its manifest (sha256 {actual[:12]}... != {expected[:12]}...); "
                    "the corpus was changed after it was built: rebuild it"
                )
    build_id = manifest.get("corpus_build_id")
    return CorpusInput(
        path=path,
        manifest=manifest,
        manifest_hash=hashlib.sha256(raw).hexdigest(),
        corpus_build_id=build_id if isinstance(build_id, int) else None,
    )
