"""Replay mix: general text (a JSONL file with a "text" field per line, or a folder of .txt files) mixed into the
training split at a ratio, for the source's "unrelated text" condition. It passes the same leak check.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path


class ReplayFileError(ValueError):
    """A replay source that cannot be read at all."""


def read_replay(path: Path) -> tuple[list[str], Counter[str]]:
    """Texts of a replay source in a stable order, and counts of unusable entries by reason."""
    problems: Counter[str] = Counter()
    texts: list[str] = []
    if path.is_dir():
        for file in sorted(path.rglob("*.txt")):
            text = file.read_text(encoding="utf-8", errors="replace").strip()
            if text:
                texts.append(text)
            else:
                problems["empty"] += 1
    elif path.is_file():
        with path.open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError:
                    problems["malformed_json"] += 1
                    continue
                text = obj.get("text") if isinstance(obj, dict) else None
                if isinstance(text, str) and text.strip():
                    texts.append(text.strip())
                else:
                    problems["no_text_field"] += 1
    else:
        raise ReplayFileError(f"replay source {path} does not exist (give a .jsonl file or a folder of .txt files)")
    if not texts:
        raise ReplayFileError(f"replay source {path} holds no usable text ({dict(problems) or 'empty'})")
    return texts, problems


def sample_replay(texts: list[str], n_corpus_texts: int, ratio: float, seed: int) -> list[str]:
    """`ratio` replay texts per corpus text (all of them if there are fewer), in a seeded order."""
    want = min(len(texts), round(n_corpus_texts * ratio))
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)
    return [texts[i] for i in sorted(order[:want])]
