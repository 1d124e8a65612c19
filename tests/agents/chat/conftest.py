"""A seeded knowledge base (SQLite file, and PostgreSQL when configured) and settings pointing the chat at the
scripted OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from labloop.agents.chat.agent import ChatAgent, memory_saver
from labloop.config import Settings
from labloop.knowledge_base.db import make_engine, make_readonly_engine
from tests.dashboard.seed import Seeded, seed
from tests.support.openai_server import ScriptedOpenAIServer


@pytest.fixture
def chat_settings(db_url: str, tmp_path: Path, openai_server: ScriptedOpenAIServer) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=db_url, llm_base_url=openai_server.base_url,
                    llm_model="scripted-model", llm_max_retries=1, llm_timeout_s=10)


@pytest.fixture
def seeded(chat_settings: Settings) -> Seeded:
    engine = make_engine(chat_settings.effective_database_url)
    out = seed(engine, chat_settings.frames_dir)
    engine.dispose()
    return out


@pytest.fixture
def agent_factory(chat_settings: Settings, seeded: Seeded) -> Iterator:
    made = []

    def make(**kw) -> ChatAgent:  # noqa: ANN003
        engine = make_readonly_engine(chat_settings.effective_database_url)
        agent = ChatAgent(chat_settings, engine, memory_saver(chat_settings.data_dir / "memory.sqlite"), **kw)
        made.append(engine)
        return agent

    yield make
    for engine in made:
        engine.dispose()
