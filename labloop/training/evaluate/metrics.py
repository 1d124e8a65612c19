"""The evaluation metrics, each defined in docs/learning.md; the same keys for the LLM and the baseline."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

METRIC_KEYS = ("n", "answered", "answer_rate", "mae_k", "rmse_k", "medae_k", "r2", "within_25k", "median_rel_err")
WITHIN_K = 25.0


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def compute_metrics(truth_c: Sequence[float], predicted_c: Sequence[float | None]) -> dict[str, float | int | None]:
    """Metrics over paired true and predicted values in degC (None = unanswered). Errors are in K
    (a difference in degC equals one in K); over answered rows only. Undefined values are None."""
    if len(truth_c) != len(predicted_c):
        raise ValueError("truth and predictions differ in length")
    pairs = [(t, p) for t, p in zip(truth_c, predicted_c, strict=True) if p is not None and math.isfinite(p)]
    n = len(truth_c)
    out: dict[str, float | int | None] = {key: None for key in METRIC_KEYS}
    out.update(n=n, answered=len(pairs), answer_rate=_round(len(pairs) / n) if n else None)
    if not pairs:
        return out
    errors = [abs(p - t) for t, p in pairs]
    out["mae_k"] = _round(statistics.fmean(errors))
    out["rmse_k"] = _round(math.sqrt(statistics.fmean(e * e for e in errors)))
    out["medae_k"] = _round(statistics.median(errors))
    out["within_25k"] = _round(sum(e <= WITHIN_K for e in errors) / len(errors))
    truths = [t for t, _ in pairs]
    if len(pairs) >= 2:
        mean = statistics.fmean(truths)
        total = sum((t - mean) ** 2 for t in truths)
        if total > 0:
            out["r2"] = _round(1.0 - sum(e * e for e in errors) / total)
    relative = [abs(p - t) / abs(t) for t, p in pairs if t != 0]
    if relative:
        out["median_rel_err"] = _round(statistics.median(relative))
    return out
