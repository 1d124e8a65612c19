"""Alembic migrations, run programmatically: `labloop db upgrade`, and a schema check for every command."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class SchemaError(RuntimeError):
    """The database schema is not the one this labloop expects."""


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def ensure_schema(engine: Engine, *, upgrade: bool) -> None:
    """Upgrade to head when allowed; otherwise refuse an out-of-date schema with a clear message."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    known = {rev.revision for rev in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()}
    url = engine.url.render_as_string(hide_password=True)
    if current is not None and current not in known:
        raise SchemaError(
            f"database {url} is at schema revision {current}, which this labloop does not know "
            "(written by a newer version?); upgrade labloop or point LABLOOP_DATABASE_URL elsewhere"
        )
    if not upgrade:
        raise SchemaError(
            f"database {url} is at schema revision {current or 'none'} but labloop needs {head}; "
            "run `labloop db upgrade`"
        )
    log.info("upgrading database %s from %s to %s", url, current or "empty", head)
    globals()["upgrade"](engine)
