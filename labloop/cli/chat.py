"""`labloop chat`, `labloop dashboard` and `labloop export`: talking to the lab record and taking it elsewhere."""

from __future__ import annotations

import uuid
from enum import StrEnum
from pathlib import Path

import typer

from labloop.cli.common import console, err_console, fail


class ExportFormat(StrEnum):
    md = "md"
    html = "html"
    csv = "csv"
    eln = "eln"


EXTENSIONS = {"md": "note.md", "html": "note.html", "csv": "observations.csv"}


def register(app: typer.Typer) -> None:
    @app.command("chat")
    def chat_cmd(
        question: str = typer.Argument(None, help="Ask one question and exit; without it, chat interactively."),
        thread: str = typer.Option(None, "--thread", help="Conversation id; the same id continues the same memory. "
                                   "Default: a new thread for each interactive session, 'cli' for one-shot questions."),
        show_tools: bool = typer.Option(False, "--tools", help="Print each tool call the assistant makes."),
    ) -> None:
        """Ask the lab assistant about runs, frames, notes and molecules. It reads the knowledge base (read-only)
        and cites the records it used (run:3, frame:120, measurement:55, ...)."""
        from labloop.agents.chat.agent import ChatError, open_agent
        from labloop.agents.llm_client import LLMNotConfigured
        from labloop.config import get_settings

        try:
            agent = open_agent(get_settings())
        except (LLMNotConfigured, ChatError) as exc:
            fail(str(exc))

        def on_event(event: dict) -> None:
            if "token" in event:
                console.print(event["token"], end="", highlight=False, markup=False)
            elif show_tools:
                status = "ok" if event["ok"] else "error"
                err_console.print(f"[dim]tool {event['tool']}({event['arguments']}) -> {status}[/]", highlight=False)

        def ask(text: str, thread_id: str) -> None:
            answer = agent.ask(text, thread_id=thread_id, on_event=on_event)
            console.print()
            if answer.citations:
                console.print(f"[dim]sources: {', '.join(answer.citations)}[/]", highlight=False)
            if answer.unverified:
                console.print(f"[yellow]cited but never returned by a tool: {', '.join(answer.unverified)}[/]")
            console.print(f"[dim]answer by {answer.model if answer.source == 'llm' else answer.source}[/]")

        if question is not None:
            try:
                ask(question, thread or "cli")
            except ChatError as exc:
                fail(str(exc))
            return
        thread_id = thread or f"cli-{uuid.uuid4().hex[:8]}"
        console.print(f"labloop chat (thread {thread_id}); empty line or Ctrl-D to quit.", highlight=False)
        while True:
            try:
                text = console.input("[bold]you>[/] ").strip()
            except (EOFError, KeyboardInterrupt):
                console.print()
                return
            if not text:
                return
            try:
                ask(text, thread_id)
            except ChatError as exc:
                err_console.print(f"[bold red]error:[/] {exc}", highlight=False)

    @app.command("dashboard")
    def dashboard_cmd(
        host: str = typer.Option("127.0.0.1", "--host", help="Address to bind; 0.0.0.0 exposes it to the network."),
        port: int = typer.Option(8501, "--port", min=1, max=65535, help="TCP port."),
    ) -> None:
        """Open the chemists' dashboard in a browser: live runs, notes, labels, comparisons, molecules, chat."""
        import os
        import sys

        from labloop.cli.common import open_engine

        open_engine().dispose()  # a clear error now beats a traceback in the browser
        app_path = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
        console.print(f"labloop dashboard on http://{host}:{port}", highlight=False)
        cmd = [sys.executable, "-m", "streamlit", "run", str(app_path), "--server.address", host,
               "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none", "--global.developmentMode", "false",
               "--client.toolbarMode", "viewer"]
        sys.stdout.flush()
        # streamlit replaces this process, so a stop signal (Ctrl-C, docker stop, kill) reaches the server itself
        os.execv(sys.executable, cmd)

    @app.command("export")
    def export_cmd(
        runs: list[int] = typer.Argument(..., help="Run id(s). Several ids only with --format eln."),
        fmt: ExportFormat = typer.Option(ExportFormat.md, "--format", "-f", help="md: lab note (Markdown); html: "
                                         "printable lab note (print to PDF from a browser); csv: observations; "
                                         "eln: RO-Crate archive for eLabFTW or Chemotion."),
        out: Path = typer.Option(None, "--out", "-o", help="Output file (default: in the reports folder)."),
        frames: bool = typer.Option(True, "--frames/--no-frames", help="eln: include the first and last frame."),
    ) -> None:
        """Export runs as a lab note, observations table or .eln archive."""
        from sqlmodel import Session

        from labloop.cli.common import open_engine
        from labloop.config import get_settings
        from labloop.knowledge_base import exports
        from labloop.knowledge_base.queries import RecordNotFound

        if len(runs) > 1 and fmt != ExportFormat.eln:
            fail("several runs go into one file only with --format eln")
        settings = get_settings()
        engine = open_engine()
        try:
            with Session(engine) as session:
                if fmt == ExportFormat.eln:
                    data: bytes | str = exports.eln_archive(session, runs,
                                                            frames_dir=settings.frames_dir if frames else None)
                elif fmt == ExportFormat.md:
                    data = exports.lab_note_markdown(session, runs[0])
                elif fmt == ExportFormat.html:
                    data = exports.lab_note_html(session, runs[0])
                else:
                    data = exports.observations_csv(session, runs[0])
        except RecordNotFound as exc:
            fail(str(exc))
        stem = f"run-{'-'.join(map(str, runs))}"
        target = out or settings.reports_dir / (f"{stem}.eln" if fmt == ExportFormat.eln else f"{stem}-{EXTENSIONS[fmt]}")
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            target.write_bytes(data)
        else:
            target.write_text(data, encoding="utf-8")
        console.print(f"wrote {target}", highlight=False)
