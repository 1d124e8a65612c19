"""Alembic environment: uses the engine handed over in config.attributes (no alembic.ini needed)."""

from alembic import context
from sqlmodel import SQLModel

import labloop.knowledge_base.models  # noqa: F401  (registers the tables)
from labloop.knowledge_base.db import make_engine

config = context.config
engine = config.attributes.get("engine") or make_engine(config.get_main_option("sqlalchemy.url"))

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
