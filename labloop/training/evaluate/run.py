"""One evaluation: prompt every compound, extract `#Prediction`, compute the metrics overall and per split."""

from __future__ import annotations

import csv
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from labloop.training.evaluate.backends import Answer
from labloop.training.evaluate.data import EvalRow
from labloop.training.evaluate.extract import Extraction, extract_prediction
from labloop.training.evaluate.metrics import compute_metrics
from labloop.training.evaluate.prompt import EvalPrompt
from labloop.units import from_celsius, to_celsius

log = logging.getLogger(__name__)


class Backend(Protocol):
    label: str

    def generate(self, prompts: Sequence[str], progress: Callable[[int], None] | None = None) -> list[Answer]: ...


@dataclass
class RowResult:
    row: EvalRow
    split: str
    answer: Answer
    extraction: Extraction

    @property
    def predicted_c(self) -> float | None:
        return None if self.extraction.value is None else self.extraction.value


@dataclass
class EvalReport:
    """The metrics object (`as_json`) and every row's answer, for plots and CSV export."""

    metrics: dict[str, Any]
    results: list[RowResult] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return self.metrics

    def write_predictions(self, path: Path, unit: str) -> None:
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["name", "smiles", "split", f"true_{unit}", f"predicted_{unit}", "outcome", "answer"])
            for r in self.results:
                pred = r.predicted_c
                writer.writerow([
                    r.row.name, r.row.smiles, r.split, round(from_celsius(r.row.value_c, unit), 3),
                    "" if pred is None else round(from_celsius(pred, unit), 3),
                    r.extraction.outcome, (r.answer.text if r.answer.text is not None else f"ERROR {r.answer.error}"),
                ])


def split_of(row: EvalRow, splits: dict[str, set[str]] | None) -> str:
    """The split a compound belongs to, matched by InChIKey (or SMILES when RDKit could not parse it)."""
    if not splits:
        return "all"
    key = row.inchikey or row.smiles
    for name, members in splits.items():
        if key in members:
            return name
    return "unseen" if "unseen" in splits or "trained" in splits else "all"


def summarize(results: Sequence[RowResult], *, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The metric keys over all rows, the extraction outcomes, and the same metrics per split."""
    metrics: dict[str, Any] = compute_metrics([r.row.value_c for r in results], [r.predicted_c for r in results])
    metrics["outcomes"] = dict(Counter(r.extraction.outcome for r in results))
    names = sorted({r.split for r in results} - {"all"})
    if names:
        metrics["splits"] = {
            name: compute_metrics([r.row.value_c for r in results if r.split == name],
                                  [r.predicted_c for r in results if r.split == name])
            for name in names
        }
    metrics.update(extra or {})
    return metrics


def evaluate_rows(
    rows: Sequence[EvalRow], backend: Backend, *, prompt: EvalPrompt | None = None,
    splits: dict[str, set[str]] | None = None, progress: Callable[[int], None] | None = None,
    extra: dict[str, Any] | None = None,
) -> EvalReport:
    """Ask `backend` about every row with the source's prompt and score the parsed answers."""
    prompt = prompt or EvalPrompt()
    answers = backend.generate([prompt.render(name=r.name, smiles=r.smiles) for r in rows], progress)
    results = []
    for row, answer in zip(rows, answers, strict=True):
        if answer.text is None:
            extraction = Extraction(None, "error")
        else:
            found = extract_prediction(answer.text, unit=prompt.unit)
            value_c = None if found.value is None else to_celsius(found.value, prompt.unit)
            extraction = Extraction(value_c, found.outcome)
        results.append(RowResult(row=row, split=split_of(row, splits), answer=answer, extraction=extraction))
    info = {"model": backend.label, "property": prompt.property_name, "unit": prompt.unit,
            "prompt_hash": prompt.template_hash, **(extra or {})}
    return EvalReport(metrics=summarize(results, extra=info), results=results)


def corpus_splits(trained_csv: Path | None, unseen_csv: Path | None) -> dict[str, set[str]]:
    """Compound keys of the corpus's trained and unseen evaluation files."""
    from labloop.training.evaluate.data import read_eval_data

    out: dict[str, set[str]] = {}
    for name, path in (("trained", trained_csv), ("unseen", unseen_csv)):
        if path is not None:
            out[name] = {r.inchikey or r.smiles for r in read_eval_data(path).rows}
    return out
