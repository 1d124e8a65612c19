"""Developer tool: rewrite the initial migration from the models (`make migration`). Pre-1.0 only."""

import tempfile
from pathlib import Path

from alembic import command

from labloop.knowledge_base.db import make_engine
from labloop.knowledge_base.migrate import MIGRATIONS_DIR, alembic_config

if __name__ == "__main__":
    for old in (MIGRATIONS_DIR / "versions").glob("0001_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'empty.db'}")
        command.revision(alembic_config(engine), message="initial schema", autogenerate=True, rev_id="0001")
    print("wrote", *sorted((MIGRATIONS_DIR / "versions").glob("0001_*.py")))
