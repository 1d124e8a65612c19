"""Turbidity against time as a PNG (matplotlib, Agg backend): CV score, vision-model score, human labels."""

from __future__ import annotations

from pathlib import Path

from labloop.agents.notes.records import RunRecord


def plot_turbidity(records: list[RunRecord], path: Path, *, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4), dpi=110)
    for i, record in enumerate(records):
        colour = f"C{i}"
        hours = [p.elapsed_s / 3600 for p in record.points if p.cv is not None]
        ax.plot(hours, [p.cv for p in record.points if p.cv is not None], "-", color=colour,
                label=f"{record.label}: CV score")
        llm = [(p.elapsed_s / 3600, p.llm) for p in record.points if p.llm is not None]
        if llm:
            ax.plot(*zip(*llm), "o", color=colour, mfc="none", label=f"{record.label}: vision model")
        human = [(p.elapsed_s / 3600, p.human) for p in record.points if p.human is not None]
        if human:
            ax.plot(*zip(*human), "s", color=colour, label=f"{record.label}: human label")
        if record.onset_s is not None:
            ax.axvline(record.onset_s / 3600, color=colour, ls=":", lw=1)
    ax.set(xlabel="time since start of run (h)", ylabel="turbidity (0 clear - 5 opaque)", ylim=(-0.2, 5.2),
           title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
