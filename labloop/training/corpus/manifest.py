"""Accounting for the manifest: rejection tables per style and per model, exposure counts, file hashes."""

from __future__ import annotations

import hashlib
import json
import statistics
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any


class RejectionTable:
    """Counts of generated texts and of rejects by reason, per style and per model."""

    def __init__(self) -> None:
        self._total: dict[str, dict[str, int]] = {"style": Counter(), "model": Counter()}
        self._rejected: dict[str, dict[str, Counter[str]]] = {"style": defaultdict(Counter), "model": defaultdict(Counter)}

    def add(self, style: str, model: str, reason: str = "") -> None:
        for axis, key in (("style", style), ("model", model)):
            self._total[axis][key] += 1
            if reason:
                self._rejected[axis][key][reason] += 1

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for axis in ("style", "model"):
            rows = {}
            for key in sorted(self._total[axis]):
                total, reasons = self._total[axis][key], self._rejected[axis][key]
                rejected = sum(reasons.values())
                rows[key] = {"texts": total, "rejected": rejected, "rate": round(rejected / total, 4) if total else 0.0,
                             "reasons": dict(sorted(reasons.items()))}
            out[f"by_{axis}"] = rows
        reasons: Counter[str] = Counter()
        for counter in self._rejected["style"].values():
            reasons.update(counter)
        out["by_reason"] = dict(sorted(reasons.items()))
        return out


def exposure_summary(per_fact: dict[str, int]) -> dict[str, Any]:
    """The real texts-per-fact distribution after rejection and dedup: histogram, mean, median, extremes."""
    counts = list(per_fact.values())
    histogram = Counter(counts)
    return {
        "facts": len(counts),
        "unexposed": histogram.get(0, 0),
        "mean": round(statistics.fmean(counts), 3) if counts else 0.0,
        "median": statistics.median(counts) if counts else 0,
        "min": min(counts, default=0),
        "max": max(counts, default=0),
        "histogram": {str(k): histogram[k] for k in sorted(histogram)},
        "per_fact": dict(sorted(per_fact.items())),
    }


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_tree(root: Path) -> dict[str, str]:
    """sha256 of every file under `root`, by relative path."""
    return {str(p.relative_to(root)): sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file()}


def sha256_json(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()
