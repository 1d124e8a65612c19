"""`labloop note RUN`: a Markdown notebook entry with a turbidity table and plot, saved as a note revision
only after its numbers were checked against the records."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from labloop.agents.notes import template
from labloop.agents.notes.generate import generate_checked
from labloop.agents.notes.numbers import AllowedNumbers, check
from labloop.agents.notes.plot import plot_turbidity
from labloop.agents.notes.prompts import NOTE_SYSTEM, NOTE_USER
from labloop.agents.notes.records import RunRecord, load_run_record
from labloop.config import Settings
from labloop.knowledge_base import observations as kb
from labloop.knowledge_base.db import session_scope
from labloop.knowledge_base.models.observations import NoteKind


@dataclass
class WrittenNote:
    note_id: int
    revision: int
    markdown_path: Path
    figure_paths: list[Path]
    source: str
    model: str | None
    body: str


def write_lab_note(
    engine: Engine, settings: Settings, run_id: int, *, use_llm: bool | None = None, author: str = "labloop",
) -> WrittenNote:
    """Write, check and store the note (a new revision when the run already has one)."""
    with session_scope(engine) as session:
        record = load_run_record(session, run_id)
    out_dir = settings.reports_dir / f"run-{run_id}"
    figure = plot_turbidity([record], out_dir / "turbidity.png", title=f"Turbidity, {record.label}")
    allowed = record.allowed_numbers()
    table = template.turbidity_table(record)
    use_llm = settings.llm_configured if use_llm is None else use_llm
    if use_llm:
        messages = [{"role": "system", "content": NOTE_SYSTEM},
                    {"role": "user", "content": NOTE_USER.format(facts=template.facts_markdown(record))}]
        text, provenance = generate_checked(settings, messages, allowed, templates=(NOTE_SYSTEM, NOTE_USER),
                                            input_hashes=sorted(record.frame_hashes.values()), what="lab note",
                                            check_suffix=table)
        notice = (f"_Written by the language model `{provenance.model}` from the records; every number was checked "
                  "against the records._")
    else:
        text, provenance, notice = template.facts_markdown(record), kb.Provenance(source="template"), template.TEMPLATE_NOTICE
    body = _assemble(record, text, table, figure.name)
    check(body, allowed, "lab note")
    body = body.replace("\n\n", f"\n\n{template.with_simulation_notice(notice, record)}\n\n", 1)
    return _store(engine, record, body, provenance, author, out_dir, [figure], allowed)


def _assemble(record: RunRecord, text: str, table: str, figure_name: str) -> str:
    return (f"# {template.note_title(record)}\n\n{text}\n\n## Turbidity over time\n\n{table}\n\n"
            f"![turbidity against time]({figure_name})\n")


def _store(
    engine: Engine, record: RunRecord, body: str, provenance: kb.Provenance, author: str, out_dir: Path,
    figures: list[Path], allowed: AllowedNumbers,
) -> WrittenNote:
    with session_scope(engine) as session:
        existing = kb.notes_for_run(session, record.run.id, NoteKind.lab_note)
        existing = [n for n in existing if n.run_id == record.run.id]
        paths = [str(p) for p in figures]
        if existing:
            revision = kb.add_revision(session, note_id=existing[-1].id, body=body, author=author,
                                       provenance=provenance, figure_paths=paths)
            note_id = existing[-1].id
        else:
            note, revision = kb.create_note(session, kind=NoteKind.lab_note, run_id=record.run.id,
                                            title=template.note_title(record), body=body, author=author,
                                            provenance=provenance, figure_paths=paths)
            note_id = note.id
        number = revision.revision
    path = out_dir / f"lab-note-r{number}.md"
    path.write_text(body)
    return WrittenNote(note_id, number, path, figures, provenance.source, provenance.model, body)
