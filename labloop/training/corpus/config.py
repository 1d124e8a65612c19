"""The typed configuration of one corpus build; the resolved copy is saved as `<out>/config.json`."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labloop.training.corpus.prompts import DEFAULT_STYLES
from labloop.training.corpus.splits import SPLITS

BACKENDS = ("openai", "vllm")


class CorpusConfigError(ValueError):
    """A configuration value that cannot work; the message names the option."""


@dataclass
class CorpusConfig:
    """What to build and how. Defaults follow the source: 16 texts per fact, six styles, reasons on."""

    out_dir: Path
    """Output directory: dataset/, eval/, manifest.json, config.json, rejects.jsonl (and cache/ by default)."""
    texts_per_fact: int = 16
    """How many styled prompts each fact goes into (the source varied 1-60; ~16 made facts stick)."""
    styles: tuple[str, ...] = DEFAULT_STYLES
    """Styles drawn at random per prompt."""
    reasons: bool = True
    """Also write chain-of-thought reasons for property facts ("why does X melt at Y")."""
    reasons_per_fact: int = 1
    """Reasons per property fact when `reasons` is on."""
    split: str = "random"
    """How held-out compounds are chosen: "random" or "scaffold" (whole Bemis-Murcko scaffolds)."""
    test_fraction: float = 0.1
    """Share of compounds held out of training (their texts form the test split)."""
    validation_fraction: float = 0.05
    """Share of training texts set aside as validation (same facts as train; for the loss curve)."""
    holdout_csv: Path | None = None
    """CSV of compounds that must be held out (columns name/smiles/inchikey, optional value, unit)."""
    seed: int = 0
    """Seed for grouping, styles, split and per-request sampling seeds: same seed, same corpus."""
    backend: str = "openai"
    """"openai" (any OpenAI-compatible endpoint) or "vllm" (offline engine on a local GPU)."""
    model: str | None = None
    """Generator model; default LABLOOP_LLM_MODEL (for vllm: a local model directory)."""
    base_url: str | None = None
    """Endpoint; default LABLOOP_LLM_BASE_URL."""
    concurrency: int = 16
    """Requests in flight at once (openai backend)."""
    timeout_s: float | None = None
    """Timeout per request; default LABLOOP_LLM_TIMEOUT_S."""
    retries: int = 2
    """Retries of a failed request (timeout, HTTP 5xx) before it is counted as failed."""
    max_consecutive_failures: int = 20
    """Stop the build when this many requests fail in a row (the endpoint is down)."""
    temperature: float = 0.8
    """Sampling temperature."""
    top_p: float = 0.95
    """Nucleus sampling."""
    max_tokens: int = 512
    """Longest answer in tokens."""
    replay_path: Path | None = None
    """General text to mix in: a .jsonl file with a "text" field, or a folder of .txt files."""
    replay_ratio: float = 0.0
    """Replay texts per generated training text (e.g. 0.5)."""
    property_name: str | None = "melting_point"
    """Only facts of this molecular property (None: every property)."""
    max_facts: int | None = None
    """At most this many property facts (a quick trial build)."""
    include_runs: bool = True
    """Include run facts (setup, dispenses, turbidity, results)."""
    include_notes: bool = True
    """Include lab notes and reflections."""
    facts_path: Path | None = None
    """Read facts from this JSONL file instead of the knowledge base."""
    cache_dir: Path | None = None
    """Request cache; default `<out_dir>/cache`. Share it between builds to reuse answers."""
    dedup_threshold: float = 0.8
    """Estimated Jaccard similarity (word 3-grams) at or above which a text is a near duplicate."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Free-form notes recorded with the build."""

    def validate(self) -> None:
        """Raise `CorpusConfigError` naming the first option that cannot work."""
        checks = [
            (self.texts_per_fact >= 1, f"--texts-per-fact must be at least 1, got {self.texts_per_fact}"),
            (self.reasons_per_fact >= 0, "--reasons-per-fact must be 0 or more"),
            (bool(self.styles) and all(s.strip() for s in self.styles), "--styles needs at least one style"),
            (self.split in SPLITS, f"--split must be one of {', '.join(SPLITS)}, got {self.split!r}"),
            (0.0 <= self.test_fraction < 1.0, f"--test-fraction must be in [0, 1), got {self.test_fraction}"),
            (0.0 <= self.validation_fraction < 1.0, "--validation-fraction must be in [0, 1)"),
            (self.backend in BACKENDS, f"--backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}"),
            (self.concurrency >= 1, f"--concurrency must be at least 1, got {self.concurrency}"),
            (self.retries >= 0, "--retries must be 0 or more"),
            (self.replay_ratio >= 0.0, "--replay-ratio must be 0 or more"),
            (self.replay_ratio == 0.0 or self.replay_path is not None, "--replay-ratio needs --replay PATH"),
            (0.0 < self.dedup_threshold <= 1.0, "--dedup-threshold must be in (0, 1]"),
            (self.max_tokens >= 1, "--max-tokens must be at least 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise CorpusConfigError(message)

    @property
    def effective_cache_dir(self) -> Path:
        return self.cache_dir or self.out_dir / "cache"

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        for key, value in out.items():
            if isinstance(value, Path):
                out[key] = str(value)
            elif isinstance(value, tuple):
                out[key] = list(value)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CorpusConfig:
        names = {f.name: f for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names}
        for key in ("out_dir", "holdout_csv", "replay_path", "facts_path", "cache_dir"):
            if kwargs.get(key) is not None:
                kwargs[key] = Path(kwargs[key])
        if "styles" in kwargs:
            kwargs["styles"] = tuple(kwargs["styles"])
        return cls(**kwargs)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
