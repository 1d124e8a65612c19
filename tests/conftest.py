"""Shared fixtures: migrated databases (SQLite file; PostgreSQL when LABLOOP_TEST_POSTGRES_URL is set),
a Settings object pointing at a temporary data dir, and the scripted OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from labloop.config import Settings
from labloop.knowledge_base.db import make_engine
from labloop.knowledge_base.migrate import upgrade
from tests.support.db import POSTGRES_ENV, fresh_postgres_database, migrated_sqlite, postgres_url
from tests.support.openai_server import ScriptedOpenAIServer

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """`../shared/data`; tests that need it skip with a visible reason when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"integration data {SHARED_DATA} is absent (it exists in CI beside the clone)")
    return SHARED_DATA


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database URL: a SQLite file, and a fresh PostgreSQL database when configured."""
    if request.param == "sqlite":
        url, engine = migrated_sqlite(tmp_path / "kb.sqlite")
        engine.dispose()
        yield url
        return
    if not postgres_url():
        pytest.skip(f"{POSTGRES_ENV} is not set: no PostgreSQL server to test against")
    with fresh_postgres_database() as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """SQLite only, for tests that do not need to run on both backends."""
    _, eng = migrated_sqlite(tmp_path / "kb.sqlite")
    yield eng
    eng.dispose()


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings for a temporary data dir with no LLM configured; also exported as LABLOOP_* for subprocesses."""
    for var in ("LABLOOP_LLM_BASE_URL", "LABLOOP_LLM_API_KEY", "LABLOOP_LLM_MODEL", "LABLOOP_VISION_MODEL",
                "LABLOOP_DATABASE_URL", "LABLOOP_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    data_dir = tmp_path / "labloop-data"
    monkeypatch.setenv("LABLOOP_DATA_DIR", str(data_dir))
    monkeypatch.setenv("LABLOOP_CONFIG", str(tmp_path / "labloop.toml"))
    from labloop.config import get_settings

    get_settings.cache_clear()
    return Settings(data_dir=data_dir)


@pytest.fixture
def openai_server() -> Iterator[ScriptedOpenAIServer]:
    """A real HTTP server on 127.0.0.1 speaking the OpenAI chat-completions protocol, scripted per test."""
    with ScriptedOpenAIServer() as server:
        yield server
