"""A parity plot (predicted vs measured) as PNG: what a chemist looks at before any table of metrics."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def parity_plot(truth_c: Sequence[float], predicted_c: Sequence[float | None], splits: Sequence[str], path: Path,
                *, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 5.5), dpi=120)
    answered = [(t, p, s) for t, p, s in zip(truth_c, predicted_c, splits, strict=True) if p is not None]
    for split in sorted({s for _, _, s in answered}):
        xs = [t for t, _, s in answered if s == split]
        ys = [p for _, p, s in answered if s == split]
        ax.scatter(xs, ys, s=8, alpha=0.5, label=f"{split} (n={len(xs)})")
    values = [v for t, p, _ in answered for v in (t, p)] or [0.0, 1.0]
    low, high = min(values), max(values)
    ax.plot([low, high], [low, high], color="black", linewidth=0.8)
    ax.fill_between([low, high], [low - 25, high - 25], [low + 25, high + 25], color="grey", alpha=0.15,
                    label="±25 K")
    ax.set_xlabel("measured (degC)")
    ax.set_ylabel("predicted (degC)")
    unanswered = len(truth_c) - len(answered)
    ax.set_title(f"{title}\n{unanswered} of {len(truth_c)} unanswered" if unanswered else title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
