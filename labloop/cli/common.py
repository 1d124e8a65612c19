"""Helpers shared by the CLI modules: logging, opening the database with a clear error, failing cleanly."""

from __future__ import annotations

import logging
from typing import NoReturn

import typer
from rich.console import Console
from sqlalchemy import Engine

console = Console()
err_console = Console(stderr=True)


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    # one INFO line per HTTP request (or per migration step) drowns the progress bars and the summary
    for chatty in ("httpx", "httpcore", "alembic"):
        logging.getLogger(chatty).setLevel(logging.DEBUG if verbose else logging.WARNING)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print an actionable error and exit non-zero (no traceback for expected failures)."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def open_engine(*, migrate: bool | None = None) -> Engine:
    """The configured database, schema upgraded (or a clear refusal when it cannot be)."""
    from sqlalchemy.exc import OperationalError

    from labloop.config import get_settings
    from labloop.knowledge_base.db import get_engine
    from labloop.knowledge_base.migrate import SchemaError

    settings = get_settings()
    try:
        return get_engine(settings, migrate=migrate)
    except SchemaError as exc:
        fail(str(exc))
    except OperationalError as exc:
        fail(f"cannot open the database {settings.masked()['database_url']}: {exc.orig}")


def invoked_as() -> str:
    """How to type this command again: `labloop` when that is on PATH, else the path it was started by
    (e.g. `.venv/bin/labloop` after `python3 tasks.py demo`)."""
    import shutil
    import sys
    from pathlib import Path

    started = Path(sys.argv[0])
    on_path = shutil.which("labloop")
    if started.name != "labloop" or (on_path and Path(on_path).resolve() == started.resolve()):
        return "labloop"
    try:
        return str(started.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(started)
