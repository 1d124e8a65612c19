"""The facts of a run as Markdown: the offline lab note's body, and the records handed to a language model."""

from __future__ import annotations

from labloop.agents.notes.numbers import elapsed_hm
from labloop.agents.notes.records import RunRecord

TEMPLATE_NOTICE = ("_Generated from the recorded measurements by a template, without a language model. "
                   "Turbidity scores are computed by image analysis (CV) unless marked otherwise._")
SIMULATED_NOTICE = ("_Recorded with simulated devices: the frames, times and dispenses come from labloop's "
                    "simulators, and results marked SIMULATED are not measurements._")
MAX_LOG_LINES = 40
MAX_EVENTS = 10


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def facts_markdown(record: RunRecord) -> str:
    run, exp = record.run, record.experiment
    lines = [f"## Setup ({record.label})"]
    if exp:
        lines += [f"- Experiment: {exp.name}"] + ([f"- Goal: {exp.goal}"] if exp.goal else [])
        lines += [f"- Setup (chemist's text): {exp.setup}" if exp.setup else "- Setup: not recorded"]
    started = run.started_at.strftime("%Y-%m-%d %H:%M")
    stopped = (f"stopped {run.stopped_at.strftime('%Y-%m-%d %H:%M')} UTC" if run.stopped_at
               else "still running when this note was written")
    lines += [f"- Operator: {run.operator}; started {started} UTC; {stopped}; status {run.status}"
              + (f" ({run.exit_reason})" if run.exit_reason else "")]
    lines += ["", "## Procedure (robot log)"]
    if record.robot_log:
        if record.dispensed_ml:
            lines.append(f"- dispensed in all: {record.dispensed_ml:g} mL")
        for elapsed, kind, payload in record.robot_log[:MAX_LOG_LINES]:
            lines.append(f"- {elapsed_hm(elapsed)} {kind}: {payload}")
        if len(record.robot_log) > MAX_LOG_LINES:
            lines.append(f"- (the first entries of {len(record.robot_log)}; the full log is in the dashboard)")
    else:
        lines.append("- no robot actions recorded" + (" (manual run)" if run.operator == "human" else ""))
    lines += ["", "## Observations"] + _observations(record)
    lines += ["", "## Events"]
    lines += [f"- {e.message}" for e in record.events[:MAX_EVENTS]] or ["- none detected"]
    if record.gaps:
        lines += [f"- gap in {g.device} at {elapsed_hm((g.started_at - run.started_at).total_seconds())}: {g.reason}"
                  for g in record.gaps]
    lines += ["", "## Results"]
    lines += [f"- {r.quantity}: {r.value:g} {r.unit}" + (f" ({r.method})" if r.method else "") for r in record.results]
    if not record.results:
        lines.append("- none recorded yet")
    return "\n".join(lines)


def _observations(record: RunRecord) -> list[str]:
    measured = [p for p in record.points if p.cv is not None]
    unusable = len(record.points) - len(measured)
    out = [f"- {len(record.points)} frames observed" + (f", {unusable} could not be measured" if unusable else "")]
    if measured:
        first, last = measured[0], measured[-1]
        peak = max(measured, key=lambda p: p.cv)
        out.append(f"- CV turbidity score {first.cv:.2f} at {elapsed_hm(first.elapsed_s)}, "
                   f"{last.cv:.2f} at {elapsed_hm(last.elapsed_s)} (highest {peak.cv:.2f} at {elapsed_hm(peak.elapsed_s)})")
    onset = next((e for e in record.events if e.kind == "onset"), None)
    out.append(f"- turbidity onset detected: {onset.message}" if onset else "- no turbidity onset detected")
    notes = [p for p in record.points if p.llm_note]
    for p in notes[:: max(1, len(notes) // 4)][:4]:
        out.append(f"- vision model at {elapsed_hm(p.elapsed_s)}: \"{p.llm_note}\"")
    return out


def turbidity_table(record: RunRecord) -> str:
    rows = ["| time (h:mm) | CV score | vision-model score | human score | frame quality |",
            "|---|---|---|---|---|"]
    for p in record.table():
        rows.append(f"| {elapsed_hm(p.elapsed_s)} | {_fmt(p.cv)} | {_fmt(p.llm)} | {_fmt(p.human)} | "
                    f"{p.quality.split(':')[0]} |")
    return "\n".join(rows)


def note_title(record: RunRecord) -> str:
    return f"Lab note: {record.run.name or record.label}"


def with_simulation_notice(notice: str, *records: RunRecord) -> str:
    """The provenance line, plus a fixed line when any run was simulated (added by labloop, whatever a model wrote)."""
    return f"{notice}\n\n{SIMULATED_NOTICE}" if any(r.simulated for r in records) else notice
