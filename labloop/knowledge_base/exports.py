"""A run's record in the formats labs already use: the lab note as Markdown and as printable HTML (with the
turbidity figure inline), the observations as CSV, and runs as an `.eln` archive (RO-Crate 1.1, the ELN
Consortium format that eLabFTW and Chemotion import)."""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session

from labloop import __version__
from labloop.knowledge_base import queries as q
from labloop.knowledge_base.frame_store import FrameStore
from labloop.knowledge_base.models import Experiment, Run
from labloop.knowledge_base.observations import observations_for_run
from labloop.knowledge_base.types import utcnow

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_TABLE_ROWS = 24


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    table: list[dict[str, object]] = field(default_factory=list)
    markdown: str = ""  # a note's own Markdown body, rendered (not shown as source) in the HTML


@dataclass
class NoteDocument:
    title: str
    sections: list[Section]
    footer: str
    figure_png: bytes | None = None


def _who(source: str, model: str | None, author: str) -> str:
    if source == "llm":
        return f"written by the model {model or '(unknown)'}"
    if source == "template":
        return "machine-generated from measurements (no model)"
    return f"written by {author or 'a person'}"


def build_document(session: Session, run_id: int) -> NoteDocument:
    """Everything the note export says, once; the Markdown and HTML renderers only lay it out."""
    run = q.get_run(session, run_id)
    exp = session.get(Experiment, run.experiment_id) if run.experiment_id else None
    stats = q.run_stats(session, run_id)
    points = q.turbidity_series(session, run_id)
    timeline = q.run_timeline(session, run_id)
    overview = Section("Run", [
        f"Experiment: {exp.name} (experiment:{exp.id}). Goal: {exp.goal}" if exp else "Experiment: (none recorded)",
        f"Operator: {run.operator}. Status: {run.status} {run.exit_reason}".strip(),
        f"Started {run.started_at:%Y-%m-%d %H:%M:%S} UTC; stopped "
        f"{run.stopped_at:%Y-%m-%d %H:%M:%S} UTC" if run.stopped_at else f"Started {run.started_at:%Y-%m-%d %H:%M:%S} UTC",
        f"Parameters: {json.dumps(run.parameters, sort_keys=True)}",
    ])
    sections = [overview]
    if exp and exp.setup:
        sections.append(Section("Setup (as written by the chemist)", [exp.setup]))
    for view in q.run_notes(session, run_id):
        if view.latest is None:
            continue
        rev = view.latest
        kind = "Reflection" if view.note.kind == "reflection" else "Lab note"
        title = view.note.title or f"note {view.note.id}"
        heading = title if title.lower().startswith(kind.lower()) else f"{kind}: {title}"
        sections.append(Section(heading, [
            f"note:{view.note.id}, revision {rev.revision} of {len(view.revisions)}, "
            f"{_who(rev.source, rev.model, rev.author)}, {rev.created_at:%Y-%m-%d %H:%M} UTC."], markdown=rev.body))
    step = max(1, -(-len(points) // MAX_TABLE_ROWS))
    sections.append(Section("Turbidity", [
        f"{stats.n_frames} frames. CV scores are computed from the images (no model); LLM scores come from the "
        "vision model named in each row; human scores are chemists' labels.",
        f"Onset (first CV score >= {q.ONSET_SCORE}, computed): "
        + (f"{stats.onset_min:.1f} min" if stats.onset_min is not None else "not reached")
        + (f"; the observer recorded onset at {stats.onset_event_min:.1f} min." if stats.onset_event_min is not None else "."),
    ], [{"t (min)": f"{p.t_min:.1f}", "frame": p.frame_id, "CV": _num(p.cv_score),
         "LLM": f"{_num(p.llm_score)} ({p.llm_model})" if p.llm_score is not None else "",
         "human": _num(p.human_score)} for p in points[::step]]))
    if timeline.observer_events or timeline.gaps:
        sections.append(Section("Events and gaps", table=[
            *({"minute": f"{timeline.event_minutes[e.id]:.1f}", "what": e.kind, "detail": e.message}
              for e in timeline.observer_events),
            *({"minute": f"{(g.started_at - run.started_at).total_seconds() / 60:.1f}", "what": f"gap ({g.device})",
               "detail": f"{g.reason}; ended {g.ended_at:%H:%M:%S}" if g.ended_at else g.reason} for g in timeline.gaps),
        ]))
    if stats.results:
        sections.append(Section("Results", table=[
            {"result": f"result:{r.id}", "quantity": r.quantity, "value": r.value, "unit": r.unit, "method": r.method,
             "by": r.author} for r in stats.results]))
    footer = f"Exported by labloop {__version__} on {utcnow():%Y-%m-%d %H:%M} UTC from run:{run.id}."
    return NoteDocument(f"Run {run.id}: {run.name or run.operator}", sections, footer, _figure(points, run))


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _figure(points: list[q.SeriesPoint], run: Run) -> bytes | None:
    if not points:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=100)
    cv = [(p.t_min, p.cv_score) for p in points if p.cv_score is not None]
    llm = [(p.t_min, p.llm_score) for p in points if p.llm_score is not None]
    human = [(p.t_min, p.human_score) for p in points if p.human_score is not None]
    if cv:
        ax.plot(*zip(*cv), "-", label="CV score (computed, no model)")
    if llm:
        ax.plot(*zip(*llm), "o", mfc="none", label="vision model score")
    if human:
        ax.plot(*zip(*human), "s", label="human label")
    ax.set(xlabel="minutes since start", ylabel="turbidity (0-5)", ylim=(-0.2, 5.2), title=f"run {run.id}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _md_cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def render_markdown(doc: NoteDocument) -> str:
    out = [f"# {doc.title}", ""]
    for sec in doc.sections:
        out += [f"## {sec.heading}", ""]
        for para in sec.paragraphs:
            out += [para, ""]
        if sec.markdown:
            out += [sec.markdown, ""]
        if sec.table:
            cols = list(sec.table[0])
            out += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
            out += ["| " + " | ".join(_md_cell(row.get(c, "")) for c in cols) + " |" for row in sec.table]
            out.append("")
    out += ["---", doc.footer, ""]
    return "\n".join(out)


PRINT_CSS = """body{font-family:Georgia,serif;max-width:48em;margin:2em auto;color:#111;line-height:1.4}
h1{font-size:1.6em}h2{font-size:1.2em;border-bottom:1px solid #999;margin-top:1.6em}
table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #bbb;padding:2px 6px;text-align:left}
p.body{white-space:pre-wrap}img{max-width:100%}footer{margin-top:2em;font-size:.8em;color:#555}
@media print{body{margin:0;max-width:none}h2{page-break-after:avoid}table,img{page-break-inside:avoid}}"""


LOCAL_IMAGE_RE = re.compile(r"!\[[^\]]*\]\([^)/:]+\)")


def _markdown_html(body: str) -> str:
    """A note's Markdown as HTML: raw HTML in it is escaped, headings sit below the section's, and images of
    files beside the note are dropped (the document carries its own figure)."""
    from markdown_it import MarkdownIt  # ships with rich

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(LOCAL_IMAGE_RE.sub("", body))
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 2, 6)}"
    return md.renderer.render(tokens, md.options, {})


def render_html(doc: NoteDocument) -> str:
    """A self-contained page (inline CSS and figure) that prints cleanly to PDF from any browser."""
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">', f"<title>{e(doc.title)}</title>",
           f"<style>{PRINT_CSS}</style></head><body>", f"<h1>{e(doc.title)}</h1>"]
    for sec in doc.sections:
        out.append(f"<h2>{e(sec.heading)}</h2>")
        out += [f'<p class="body">{e(p)}</p>' for p in sec.paragraphs]
        if sec.markdown:
            out.append(_markdown_html(sec.markdown))
        if sec.heading == "Turbidity" and doc.figure_png:
            src = base64.b64encode(doc.figure_png).decode()
            out.append(f'<img alt="turbidity over time" src="data:image/png;base64,{src}">')
        if sec.table:
            cols = list(sec.table[0])
            out.append("<table><tr>" + "".join(f"<th>{e(c)}</th>" for c in cols) + "</tr>")
            out += ["<tr>" + "".join(f"<td>{e(str(r.get(c, '')))}</td>" for c in cols) + "</tr>" for r in sec.table]
            out.append("</table>")
    out += [f"<footer>{e(doc.footer)}</footer>", "</body></html>"]
    return "\n".join(out)


def lab_note_markdown(session: Session, run_id: int) -> str:
    return render_markdown(build_document(session, run_id))


def lab_note_html(session: Session, run_id: int) -> str:
    return render_html(build_document(session, run_id))


CSV_COLUMNS = ["frame_id", "seq", "ts_utc", "t_min", "observation_id", "haze", "cv_score", "llm_score",
               "llm_status", "llm_model", "llm_note", "human_score", "quality"]


def _safe_cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula is prefixed with a quote (CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return "" if value is None else value


def observations_csv(session: Session, run_id: int) -> str:
    run = q.get_run(session, run_id)
    human = {p.frame_id: p.human_score for p in q.turbidity_series(session, run_id)}
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for obs, frame in observations_for_run(session, run_id):
        writer.writerow([_safe_cell(v) for v in (
            frame.id, frame.seq, frame.ts.isoformat(), round((frame.ts - run.started_at).total_seconds() / 60, 3),
            obs.id, obs.haze, obs.cv_score, obs.llm_score, obs.llm_status,
            obs.model if obs.llm_score is not None else None, obs.llm_note, human.get(frame.id), obs.quality)])
    return buf.getvalue()


def eln_archive(session: Session, run_ids: list[int], *, frames_dir: Path | None = None) -> bytes:
    """An `.eln` zip: one folder holding ro-crate-metadata.json and a dataset per run (note, CSV, figure,
    and the first and last frame when `frames_dir` is given). Every file is listed with size and sha256."""
    run_ids = list(dict.fromkeys(run_ids))  # a run named twice is exported once (RO-Crate ids are unique)
    if not run_ids:
        raise ValueError("no runs to export")
    root = f"labloop-runs-{'-'.join(map(str, run_ids))}"
    now = utcnow().isoformat(timespec="seconds")
    graph: list[dict[str, object]] = [
        {"@id": "ro-crate-metadata.json", "@type": "CreativeWork", "about": {"@id": "./"},
         "conformsTo": {"@id": "https://w3id.org/ro/crate/1.1"}},
        {"@id": "#labloop", "@type": "SoftwareApplication", "name": "labloop", "version": __version__},
    ]
    parts, files = [], {}
    for run_id in run_ids:
        run = q.get_run(session, run_id)
        doc = build_document(session, run_id)
        folder = f"./run-{run_id}/"
        content = {"lab-note.md": (render_markdown(doc).encode(), "text/markdown"),
                   "lab-note.html": (render_html(doc).encode(), "text/html"),
                   "observations.csv": (observations_csv(session, run_id).encode(), "text/csv")}
        if doc.figure_png:
            content["turbidity.png"] = (doc.figure_png, "image/png")
        if frames_dir is not None:
            content.update(_edge_frames(session, run_id, FrameStore(frames_dir)))
        run_parts = []
        for name, (data, mime) in content.items():
            fid = f"{folder}{name}"
            files[fid] = data
            run_parts.append({"@id": fid})
            graph.append({"@id": fid, "@type": "File", "name": name, "encodingFormat": mime,
                          "contentSize": str(len(data)), "sha256": hashlib.sha256(data).hexdigest()})
        results = [{"@id": f"#result-{r.id}", "@type": "PropertyValue", "propertyID": r.quantity, "value": r.value,
                    "unitText": r.unit, "measurementTechnique": r.method} for r in q.run_results(session, run_id)]
        graph += results
        graph.append({"@id": folder, "@type": "Dataset", "name": doc.title, "identifier": f"labloop:run:{run_id}",
                      "dateCreated": run.started_at.isoformat(), "dateModified": (run.stopped_at or run.started_at).isoformat(),
                      "keywords": f"labloop, {run.operator}, {run.status}", "text": render_markdown(doc),
                      "hasPart": run_parts, "variableMeasured": [{"@id": r["@id"]} for r in results]})
        parts.append({"@id": folder})
    graph.insert(1, {"@id": "./", "@type": "Dataset", "name": f"labloop export of runs {', '.join(map(str, run_ids))}",
                     "datePublished": now, "hasPart": parts, "sdPublisher": {"@id": "#labloop"},
                     "license": {"@id": "https://creativecommons.org/licenses/by/4.0/"}})
    metadata = {"@context": "https://w3id.org/ro/crate/1.1/context", "@graph": graph}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{root}/ro-crate-metadata.json", json.dumps(metadata, indent=1, ensure_ascii=False))
        for fid, data in files.items():
            zf.writestr(f"{root}/{fid[2:]}", data)
    return buf.getvalue()


def _edge_frames(session: Session, run_id: int, store: FrameStore) -> dict[str, tuple[bytes, str]]:
    frames = q.run_frames(session, run_id)
    out = {}
    for label, frame in (("first", frames[0]), ("last", frames[-1])) if frames else ():
        try:
            data = store.read(frame.path)
        except (OSError, ValueError):
            continue
        ext = frame.path.rsplit(".", 1)[-1]
        out[f"frame-{label}-{frame.id}.{ext}"] = (data, "image/png" if ext == "png" else "image/jpeg")
    return out
