"""The schema: migrations reach head on both backends, match the models, and keep UTC timestamps."""

from datetime import datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import OperationalError, StatementError
from sqlmodel import Session, SQLModel, select

from labloop.config import sqlite_url
from labloop.knowledge_base.db import make_engine, make_readonly_engine
from labloop.knowledge_base.migrate import SchemaError, current_revision, ensure_schema, head_revision
from labloop.knowledge_base.models import Experiment, Run


def test_migrations_reach_head(engine):
    assert current_revision(engine) == head_revision()


def test_migrations_match_models(engine):
    """A model change without a regenerated migration fails here (run `python3 tasks.py migration`)."""
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
    assert diffs == []


def test_timestamps_round_trip_as_aware_utc(engine):
    cest = timezone(timedelta(hours=2))
    with Session(engine) as s:
        run = Run(config_snapshot={"a": 1}, started_at=datetime(2026, 6, 1, 12, 0, tzinfo=cest))
        s.add(run)
        s.commit()
        run_id = run.id
    with Session(engine) as s:
        loaded = s.get(Run, run_id)
        assert loaded.started_at.tzinfo is not None
        assert loaded.started_at.utcoffset() == timedelta(0)
        assert loaded.started_at == datetime(2026, 6, 1, 10, 0, tzinfo=timezone.utc)
        assert loaded.config_snapshot == {"a": 1}


def test_naive_timestamps_are_refused(engine):
    with Session(engine) as s:
        s.add(Run(started_at=datetime(2026, 6, 1, 12, 0)))
        with pytest.raises(StatementError, match="naive datetime"):
            s.commit()


def test_sqlite_pragmas(sqlite_engine):
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 10_000


def test_foreign_keys_are_enforced(engine):
    from sqlalchemy.exc import IntegrityError

    from labloop.knowledge_base.models import Gap

    with Session(engine) as s:
        s.add(Gap(run_id=999_999, device="camera"))
        with pytest.raises(IntegrityError):
            s.commit()


def test_readonly_engine_cannot_write(db_url):
    rw = make_engine(db_url)
    with Session(rw) as s:
        s.add(Experiment(name="keep me"))
        s.commit()
    ro = make_readonly_engine(db_url)
    with Session(ro) as s:
        assert [e.name for e in s.exec(select(Experiment))] == ["keep me"]
        s.add(Experiment(name="sneaky"))
        with pytest.raises(Exception, match="(?i)read.?only|readonly"):
            s.commit()
    with Session(ro) as s, pytest.raises(Exception, match="(?i)read.?only|readonly"):
        s.execute(text("DELETE FROM experiment"))
        s.commit()
    with Session(rw) as s:
        assert [e.name for e in s.exec(select(Experiment))] == ["keep me"]
    ro.dispose()
    rw.dispose()


def test_out_of_date_schema_is_refused_with_advice(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(SchemaError, match="labloop db upgrade"):
        ensure_schema(engine, upgrade=False)
    ensure_schema(engine, upgrade=True)
    assert current_revision(engine) == head_revision()


def test_unknown_newer_revision_is_refused(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'future.db'}")
    ensure_schema(engine, upgrade=True)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'zz_future'"))
    with pytest.raises(SchemaError, match="does not know"):
        ensure_schema(engine, upgrade=True)


def test_readonly_engine_on_missing_file_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="labloop db upgrade"):
        make_readonly_engine(f"sqlite:///{tmp_path / 'nope.db'}")


def test_unreachable_postgres_is_an_operational_error():
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    with pytest.raises(OperationalError):
        ensure_schema(engine, upgrade=True)


@pytest.mark.parametrize("folder", ["lab #2", "what?", "100% done", "spaces and ünïcode"])
def test_readonly_engine_opens_paths_with_uri_special_characters(tmp_path, folder):
    path = tmp_path / folder / "kb.sqlite"
    path.parent.mkdir()
    rw = make_engine(sqlite_url(path))
    ensure_schema(rw, upgrade=True)
    with Session(rw) as s:
        s.add(Experiment(name="found"))
        s.commit()
    ro = make_readonly_engine(sqlite_url(path))
    with Session(ro) as s:
        assert [e.name for e in s.exec(select(Experiment))] == ["found"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder]  # no stray file created elsewhere
    ro.dispose()
    rw.dispose()
