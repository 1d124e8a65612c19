"""A dashboard data dir filled with seeded runs (frames on disk, observations, notes, molecules, training),
and AppTest runners for the app's pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from labloop.config import Settings
from labloop.knowledge_base.db import get_engine
from tests.dashboard.seed import Seeded, seed

APP = Path(__file__).resolve().parents[2] / "labloop" / "dashboard" / "app.py"


@pytest.fixture
def seeded_dashboard(settings: Settings) -> tuple[Settings, Seeded]:
    engine = get_engine(settings)
    out = seed(engine, settings.frames_dir)
    engine.dispose()
    return settings, out


@pytest.fixture
def open_page():
    """`open_page("runs", run="1")`: the app run once, then switched to that page with query params."""

    def run(page: str, **params: str) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=60)
        at.run()
        at.switch_page(f"views/{page}.py")
        for key, value in params.items():
            at.query_params[key] = value
        return at.run()

    return run
