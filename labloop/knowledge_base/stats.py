"""Row counts per table, for `labloop kb stats` and the dashboard."""

from __future__ import annotations

from sqlalchemy import Engine, func, select
from sqlmodel import SQLModel

import labloop.knowledge_base.models  # noqa: F401  (registers the tables)


def table_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in sorted(SQLModel.metadata.tables.items())
        }
