"""Haze (0-1) to the chemist's 0-5 turbidity scale: linear by default, a monotone fit to human labels when
there are any (pool-adjacent-violators isotonic regression in numpy, so the base install suffices)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SCALE_MAX = 5.0
MIN_LABELS = 3


@dataclass(frozen=True)
class Calibration:
    """Piecewise-linear, non-decreasing map from haze to score; `source` says where it came from."""

    knots_haze: tuple[float, ...] = (0.0, 1.0)
    knots_score: tuple[float, ...] = (0.0, SCALE_MAX)
    source: str = "default linear map (no human labels yet)"
    n_labels: int = 0

    @classmethod
    def default(cls) -> Calibration:
        return cls()

    @classmethod
    def fit(cls, pairs: Sequence[tuple[float, float]]) -> Calibration:
        """Isotonic fit of human scores against haze; falls back to the default with too few distinct labels."""
        clean = [(float(h), float(s)) for h, s in pairs if h is not None and s is not None]
        if len(clean) < MIN_LABELS or len({h for h, _ in clean}) < 2:
            return cls.default()
        clean.sort()
        xs = np.array([h for h, _ in clean])
        ys = np.clip(np.array([s for _, s in clean]), 0.0, SCALE_MAX)
        fitted = _pava(ys)
        knots_x, knots_y = [], []
        for x in np.unique(xs):
            knots_x.append(float(x))
            knots_y.append(float(fitted[xs == x].mean()))
        return cls(tuple(knots_x), tuple(knots_y), source=f"isotonic fit to {len(clean)} human labels",
                   n_labels=len(clean))

    def score(self, haze: float) -> float:
        if len(self.knots_haze) == 1:
            return float(self.knots_score[0])
        return float(np.clip(np.interp(haze, self.knots_haze, self.knots_score), 0.0, SCALE_MAX))


def _pava(y: np.ndarray) -> np.ndarray:
    """Pool adjacent violators: the non-decreasing sequence closest to `y` in least squares."""
    blocks: list[list[float]] = []  # [sum, count]
    for value in y:
        blocks.append([float(value), 1.0])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += count
    return np.concatenate([np.full(int(c), s / c) for s, c in blocks])
