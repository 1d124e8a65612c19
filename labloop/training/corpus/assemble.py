"""From answers to dataset rows: fidelity check, leak check, dedup, replay mix, validation share, exposure counts,
and the final leak proof over everything a model will be trained on.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from labloop.training.corpus.dedup import Deduplicator
from labloop.training.corpus.facts import Fact
from labloop.training.corpus.fidelity import FidelityChecker, Verdict
from labloop.training.corpus.leak import LeakMatcher
from labloop.training.corpus.manifest import RejectionTable
from labloop.training.corpus.prompts import PlannedText

SPLIT_NAMES = ("train", "validation", "test")


@dataclass
class Row:
    text: str
    kind: str
    style: str
    fact_ids: list[str]
    split: str
    model: str = ""


@dataclass
class Assembly:
    rows: list[Row] = field(default_factory=list)
    rejections: RejectionTable = field(default_factory=RejectionTable)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    replay: dict[str, Any] = field(default_factory=dict)

    def split_rows(self, split: str) -> list[Row]:
        return [r for r in self.rows if r.split == split]


class Assembler:
    """Turns (planned text, answer) pairs into accepted rows, counting every reject by style, model and reason."""

    def __init__(self, facts: dict[str, Fact], matcher: LeakMatcher, *, dedup_threshold: float) -> None:
        self.facts = facts
        self.matcher = matcher
        self.checker = FidelityChecker()
        self.dedup = Deduplicator(threshold=dedup_threshold)
        self.out = Assembly()

    def _reject(self, plan_style: str, model: str, verdict: Verdict, item: dict[str, Any]) -> None:
        self.out.rejections.add(plan_style, model, verdict.reason)
        self.out.rejects.append({**item, "reason": verdict.reason, "detail": verdict.detail})

    def add(self, planned: PlannedText, answer: dict[str, Any] | None, failure: str | None) -> None:
        """Check one answer (None with a `failure` reason when the request failed) and keep it if it passes."""
        model = (answer or {}).get("model") or "unknown"
        item = {"style": planned.style, "kind": planned.kind, "fact_ids": list(planned.fact_ids), "model": model}
        if answer is None:
            self._reject(planned.style, model, Verdict(False, "request_failed", failure or ""), item)
            return
        text = (answer.get("text") or "").strip()
        item["text"] = text[:2000]
        facts = [self.facts[i] for i in planned.fact_ids]
        verdict = self.checker.check(text, facts, kind=planned.kind)
        if verdict.ok and not planned.held_out:
            hits = self.matcher.find(self.checker.mask_identifiers(text, facts)[0])
            if hits:
                verdict = Verdict(False, "held_out_mention", hits[0])
        if verdict.ok:
            dup = self.dedup.seen(text)
            if dup:
                verdict = Verdict(False, dup)
        if not verdict.ok:
            self._reject(planned.style, model, verdict, item)
            return
        self.out.rejections.add(planned.style, model)
        split = "test" if planned.held_out else "train"
        self.out.rows.append(Row(text, planned.kind, planned.style, list(planned.fact_ids), split, model))

    def add_replay(self, texts: list[str], available: int, problems: Counter[str]) -> None:
        """Mix general texts into train; any that names a held-out compound or repeats a text is dropped."""
        dropped: Counter[str] = Counter()
        for text in texts:
            if self.matcher.find(text):
                dropped["held_out_mention"] += 1
            elif dup := self.dedup.seen(text):
                dropped[dup] += 1
            else:
                self.out.rows.append(Row(text, "replay", "", [], "train", "replay"))
        self.out.replay = {"available": available, "sampled": len(texts), "dropped": dict(dropped),
                           "unreadable": dict(problems), "kept": len(texts) - sum(dropped.values())}

    def carve_validation(self, fraction: float, seed: int) -> None:
        """Move a seeded share of generated train texts to validation (their facts stay exposed in train)."""
        candidates = [i for i, r in enumerate(self.out.rows) if r.split == "train" and r.kind != "replay"]
        count = round(len(candidates) * fraction)
        for i in random.Random(seed).sample(candidates, count):
            self.out.rows[i].split = "validation"

    def exposure(self, train_fact_ids: list[str]) -> dict[str, int]:
        """How many train texts carry each trained fact, after rejection and dedup."""
        counts = dict.fromkeys(train_fact_ids, 0)
        for row in self.out.split_rows("train"):
            for fact_id in row.fact_ids:
                if fact_id in counts:
                    counts[fact_id] += 1
        return counts

    def prove_no_leak(self) -> dict[str, Any]:
        """Re-scan every train and validation text, from scratch, for held-out identifiers."""
        hits = []
        checked = 0
        for row in self.out.rows:
            if row.split == "test":
                continue
            checked += 1
            facts = [self.facts[i] for i in row.fact_ids]
            found = self.matcher.find(self.checker.mask_identifiers(row.text, facts)[0])
            if found:
                hits.append({"split": row.split, "kind": row.kind, "fact_ids": row.fact_ids, "found": sorted(set(found))})
        return {"passed": not hits, "texts_checked": checked, "hits": hits[:50], "n_hits": len(hits),
                **self.matcher.describe()}
