"""Database fixtures' helpers: a fresh migrated SQLite file or a fresh PostgreSQL database per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from labloop.config import sqlite_url
from labloop.knowledge_base.db import make_engine
from labloop.knowledge_base.migrate import upgrade

POSTGRES_ENV = "LABLOOP_TEST_POSTGRES_URL"


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create a uniquely named database on the test server, yield its URL, drop it afterwards."""
    admin_url = make_url(postgres_url())
    name = f"labloop_t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(admin_url.render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def migrated_sqlite(path: Path) -> tuple[str, Engine]:
    url = sqlite_url(path)
    engine = make_engine(url)
    upgrade(engine)
    return url, engine
