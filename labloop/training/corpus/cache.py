"""On-disk cache of generation requests, keyed by a hash of (prompt, model, sampling parameters).

An append-only JSONL file, flushed after every answer: a killed build loses at most the line being written (a
torn last line is skipped when the cache is read), and a rebuild with the same settings makes no new requests.
Only successful answers are cached, so failed requests are retried by the next build.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def request_key(prompt: str, model: str, params: dict[str, Any]) -> str:
    """The cache key: sha256 of the canonical JSON of prompt, model and sampling parameters."""
    blob = json.dumps({"prompt": prompt, "model": model, "params": params}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


class RequestCache:
    """`get(key)` / `put(key, entry)`; entries are dicts with at least `text` and `model`."""

    FILE = "requests.jsonl"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / self.FILE
        self._entries: dict[str, dict[str, Any]] = {}
        self.torn_lines = 0
        if self.path.exists():
            self._load()
        self._fh = self.path.open("a", encoding="utf-8")

    def _load(self) -> None:
        with self.path.open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                try:
                    entry = json.loads(line)
                    self._entries[entry["key"]] = entry
                except (json.JSONDecodeError, KeyError, TypeError):
                    self.torn_lines += 1
        if self.torn_lines:
            log.warning("request cache %s: skipped %d unreadable line(s) (an interrupted write)", self.path, self.torn_lines)
        if self.path.stat().st_size and not self._ends_with_newline():
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write("\n")

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) == b"\n"

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def get(self, key: str) -> dict[str, Any] | None:
        return self._entries.get(key)

    def put(self, key: str, entry: dict[str, Any]) -> None:
        entry = {"key": key, **entry}
        self._entries[key] = entry
        self._fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> RequestCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
