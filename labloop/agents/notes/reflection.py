"""`labloop reflect RUN_A RUN_B`: what differed between two runs and what probably caused it, from frames at
matching times (one composed image), turbidity curves, device logs, placement and recorded results."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from sqlalchemy import Engine

from labloop.agents.notes import template
from labloop.agents.notes.generate import generate_checked
from labloop.agents.notes.numbers import AllowedNumbers, check, elapsed_hm
from labloop.agents.notes.plot import plot_turbidity
from labloop.agents.notes.prompts import REFLECTION_SYSTEM, REFLECTION_USER
from labloop.agents.notes.records import RunRecord, load_run_record
from labloop.agents.vision.haze import decode
from labloop.config import Settings
from labloop.knowledge_base import observations as kb
from labloop.knowledge_base.db import session_scope
from labloop.knowledge_base.frame_store import FrameStore
from labloop.knowledge_base.models.observations import NoteKind

TILE_HEIGHT = 240
MATCH_FRACTIONS = (0.0, 0.25, 0.5, 1.0)


@dataclass
class WrittenReflection:
    note_id: int
    markdown_path: Path
    figure_paths: list[Path]
    source: str
    body: str


def matched_frames(a: RunRecord, b: RunRecord) -> list[tuple[float, int, int]]:
    """(elapsed s, frame in A, frame in B) at a few matching times across the shorter run."""
    if not a.points or not b.points:
        return []
    span = min(a.points[-1].elapsed_s, b.points[-1].elapsed_s)
    out = []
    for fraction in MATCH_FRACTIONS:
        t = span * fraction
        pa = min(a.points, key=lambda p: abs(p.elapsed_s - t))
        pb = min(b.points, key=lambda p: abs(p.elapsed_s - t))
        if (pa.frame_id, pb.frame_id) not in {(x[1], x[2]) for x in out}:
            out.append((pa.elapsed_s, pa.frame_id, pb.frame_id))
    return out


def compose(store: FrameStore, a: RunRecord, b: RunRecord, pairs: list[tuple[float, int, int]], path: Path) -> Path:
    """One image: a row per matching time, run A left and run B right, labelled with the time."""
    rows = []
    for elapsed, fa, fb in pairs:
        tiles = []
        for record, frame_id in ((a, fa), (b, fb)):
            image = decode(store.read(record.frame_paths[frame_id])) if frame_id in record.frame_paths else None
            if image is None:
                image = np.zeros((TILE_HEIGHT, TILE_HEIGHT * 16 // 9, 3), np.uint8)
            tile = cv2.resize(image, (int(image.shape[1] * TILE_HEIGHT / image.shape[0]), TILE_HEIGHT))
            cv2.putText(tile, f"{record.label} {elapsed_hm(elapsed)}", (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6,
                        (0, 255, 255), 2)
            tiles.append(tile)
        width = max(t.shape[1] for t in tiles)
        rows.append(np.hstack([cv2.copyMakeBorder(t, 0, 0, 0, width - t.shape[1], cv2.BORDER_CONSTANT) for t in tiles]))
    width = max(r.shape[1] for r in rows)
    grid = np.vstack([cv2.copyMakeBorder(r, 0, 4, 0, width - r.shape[1], cv2.BORDER_CONSTANT) for r in rows])
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), grid)
    return path


def comparison_markdown(a: RunRecord, b: RunRecord, allowed: AllowedNumbers) -> str:
    """The measured differences; every derived number is added to `allowed` as it is computed."""
    lines = [f"## Placement of the vial ({a.label} vs {b.label})"]
    xa, xb = a.roi_centre_x, b.roi_centre_x
    if xa is not None and xb is not None:
        shift = round(xa - xb, 1)
        allowed.add(shift, abs(shift))
        lines.append(f"- The vial region is centred at x = {xa:g} px in {a.label} and x = {xb:g} px in {b.label}: "
                     f"a placement offset of {abs(shift):g} px between the runs.")
    for record in (a, b):
        if record.placement_offset_mm is not None:
            lines.append(f"- {record.label}: the camera configuration records the vial {record.placement_offset_mm:g} mm "
                         "from the stirrer centre.")
    off = [r for r in (a, b) if r.placement_offset_mm]
    if off or (xa is not None and xb is not None and abs(xa - xb) >= 2):
        lines.append("- An off-centre vial on a magnetic stirrer couples unevenly to the stir bar: mixing is less "
                     "uniform, which probably broadens the particle size distribution.")
    lines += ["", "## Turbidity"]
    for record in (a, b):
        onset = record.onset_s
        lines.append(f"- {record.label}: onset " + (f"at {elapsed_hm(onset)}" if onset is not None else "not detected")
                     + f"; final CV score {_last(record)}")
    if a.onset_s is not None and b.onset_s is not None:
        diff = round((a.onset_s - b.onset_s) / 60)
        step = round(max(_frame_interval_s(a), _frame_interval_s(b)) / 60)
        allowed.add(diff, abs(diff), step)
        if diff and abs(diff) <= step:
            lines.append(f"- The onset in {a.label} came {abs(diff)} min {'later' if diff > 0 else 'earlier'} than in "
                         f"{b.label}: within one frame interval ({step} min), so not a measured difference.")
        else:
            lines.append(f"- The onset in {a.label} came {abs(diff)} min {'later' if diff > 0 else 'earlier'} than "
                         f"in {b.label}." if diff else "- The onsets coincide.")
    lines += ["", "## Device logs"]
    for record in (a, b):
        counts = record.device_counts
        lines.append(f"- {record.label}: {counts.get('device_events', 0)} device events, {len(record.gaps)} gaps, "
                     f"{counts.get('error', 0)} errors, {counts.get('resend', 0)} resends")
    lines += ["", "## Results"]
    for record in (a, b):
        for r in record.results:
            lines.append(f"- {record.label}: {r.quantity} {r.value:g} {r.unit}" + (f" ({r.method})" if r.method else ""))
    if not (a.results or b.results):
        lines.append("- no results recorded for either run")
    return "\n".join(lines)


def write_reflection(
    engine: Engine, settings: Settings, run_a: int, run_b: int, *, use_llm: bool | None = None, author: str = "labloop",
) -> WrittenReflection:
    if run_a == run_b:
        raise ValueError("a reflection compares two different runs")
    with session_scope(engine) as session:
        a, b = load_run_record(session, run_a), load_run_record(session, run_b)
    out_dir = settings.reports_dir / f"reflection-run-{run_a}-vs-{run_b}"
    plot = plot_turbidity([a, b], out_dir / "turbidity.png", title=f"Turbidity: {a.label} vs {b.label}")
    pairs = matched_frames(a, b)
    figures = [plot]
    if pairs:
        figures.append(compose(FrameStore(settings.frames_dir), a, b, pairs, out_dir / "side-by-side.png"))
    allowed = AllowedNumbers()
    a.add_to(allowed)
    b.add_to(allowed)
    facts = comparison_markdown(a, b, allowed)
    use_llm = settings.llm_configured if use_llm is None else use_llm
    title = f"Reflection: {a.label} vs {b.label}"
    if use_llm:
        content: list[dict] = [{"type": "text", "text": REFLECTION_USER.format(
            facts=f"{template.facts_markdown(a)}\n\n{template.facts_markdown(b)}\n\n{facts}", left=a.label,
            right=b.label)}]
        if len(figures) > 1:
            data = base64.b64encode(figures[1].read_bytes()).decode()
            content.append({"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}})
        messages = [{"role": "system", "content": REFLECTION_SYSTEM}, {"role": "user", "content": content}]
        hashes = sorted({*a.frame_hashes.values(), *b.frame_hashes.values()})
        text, provenance = generate_checked(settings, messages, allowed, templates=(REFLECTION_SYSTEM, REFLECTION_USER),
                                            input_hashes=hashes, what="reflection",
                                            model=settings.effective_vision_model)
        notice = f"_Written by the language model `{provenance.model}` from the records and photos; numbers checked._"
    else:
        text, provenance = facts, kb.Provenance(source="template")
        notice = template.TEMPLATE_NOTICE
    body = f"# {title}\n\n{text}\n\n![turbidity of both runs]({plot.name})\n"
    if len(figures) > 1:
        body += f"\n![frames at matching times]({figures[1].name})\n"
    check(body, allowed, "reflection")
    body = body.replace("\n\n", f"\n\n{template.with_simulation_notice(notice, a, b)}\n\n", 1)
    with session_scope(engine) as session:
        note, _ = kb.create_note(session, kind=NoteKind.reflection, run_id=run_a, compared_run_ids=[run_b],
                                 title=title, body=body, author=author, provenance=provenance,
                                 figure_paths=[str(p) for p in figures])
        note_id = note.id
    path = out_dir / f"reflection-{note_id}.md"
    path.write_text(body)
    return WrittenReflection(note_id, path, figures, provenance.source, body)


def _frame_interval_s(record: RunRecord) -> float:
    """The median time between observed frames (the resolution of an onset time)."""
    steps = [b.elapsed_s - a.elapsed_s for a, b in zip(record.points, record.points[1:])]
    return float(np.median(steps)) if steps else 0.0


def _last(record: RunRecord) -> str:
    measured = [p.cv for p in record.points if p.cv is not None]
    return f"{measured[-1]:.2f}" if measured else "-"
