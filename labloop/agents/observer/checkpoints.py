"""The observer's checkpointer: a SQLite file beside a SQLite database, LangGraph's PostgreSQL saver beside
a PostgreSQL one."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver
from sqlalchemy.engine import make_url

from labloop.knowledge_base.db import is_sqlite


def sqlite_checkpoint_path(database_url: str) -> Path:
    database = make_url(database_url).database or "labloop.db"
    return Path(database).with_suffix(".observer-checkpoints.sqlite")


@contextmanager
def open_checkpointer(database_url: str) -> Iterator[BaseCheckpointSaver]:
    """A ready (tables created) checkpointer for the deployment's database."""
    if is_sqlite(database_url):
        from langgraph.checkpoint.sqlite import SqliteSaver

        path = sqlite_checkpoint_path(database_url)
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
        try:
            saver = SqliteSaver(conn)
            saver.setup()
            yield saver
        finally:
            conn.close()
        return
    from langgraph.checkpoint.postgres import PostgresSaver

    plain = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with PostgresSaver.from_conn_string(plain) as saver:
        saver.setup()
        yield saver
