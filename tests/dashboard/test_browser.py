"""End to end: `labloop dashboard` as a real process on a free port over the database `labloop demo` fills,
driven by headless Chromium through Selenium. Every page is visited, its visible text checked, its images
checked to have loaded, and a screenshot saved under test-artifacts/dashboard/."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from labloop.knowledge_base.db import get_engine
from labloop.agents.demo import run_demo
from tests.dashboard.seed import add_molecules
from tests.support.dashboard import free_port, wait_until_healthy

pytestmark = pytest.mark.browser

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"
PAGES = [  # url path, text that must be visible once the page has rendered, images that must have loaded
    # a deep link first, before anyone opened the root: the sidebar must be labloop's navigation ("Label frames"),
    # not Streamlit's automatic page list
    ("run_detail?run=1", ["Run detail", "robot · success", "Notes (", "frame:1 at 0.0 min", "Label frames"], 7),
    ("", ["Runs", "demo human run", "latest frame", "CV turbidity (computed, no model)", "Robot log"], 1),
    ("compare?runs=1,2", ["Compare runs", "Reflection: run 1 (robot) vs run 2 (human)",
                          "machine-generated from measurements (no model)", "onset"], 3),
    ("label?run=1", ["Label frames", "frames to go", "Save label"], 1),
    ("molecules?q=toluenesulfonyl", ["Molecules", "YYROPELSRYBVMQ-UHFFFAOYSA-N", "median of 3", "69 degC"], 1),
    ("training", ["Training", "No model is promoted yet"], 0),
    ("chat", ["Chat", "LABLOOP_LLM_BASE_URL"], 0),
]


@pytest.fixture
def dashboard(settings, tmp_path: Path) -> Iterator[str]:  # noqa: ANN001
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip(f"{CHROMIUM} or {CHROMEDRIVER} is missing (Debian packages chromium, chromium-driver)")
    run_demo(settings, use_llm=False)  # the simulated demo: two observed runs, notes, a reflection, results
    engine = get_engine(settings)
    add_molecules(engine)
    engine.dispose()
    port = free_port()
    log = (tmp_path / "dashboard.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "labloop", "dashboard", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
    base = f"http://127.0.0.1:{port}"
    try:
        if not wait_until_healthy(proc, base):
            pytest.fail(f"dashboard did not start: {(tmp_path / 'dashboard.log').read_text()[-2000:]}")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1400,1000", f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)


def wait_for_text(driver, wanted: list[str], timeout: float = 45.0) -> str:  # noqa: ANN001
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + timeout
    body = ""
    while time.monotonic() < deadline:
        body = driver.find_element(By.TAG_NAME, "body").text
        running = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]')
        if all(w in body for w in wanted) and not running:
            return body
        time.sleep(0.3)
    raise AssertionError(f"missing {[w for w in wanted if w not in body]} in page text:\n{body[:3000]}")


def test_every_page_renders_in_chromium(dashboard: str, browser) -> None:  # noqa: ANN001
    from selenium.webdriver.common.by import By

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for path, wanted, n_images in PAGES:
        browser.get(f"{dashboard}/{path}")
        body = wait_for_text(browser, wanted)
        assert "Traceback" not in body and not browser.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]')
        loaded = [i for i in browser.find_elements(By.CSS_SELECTOR, "[data-testid='stMain'] img")
                  if i.get_property("naturalWidth")]
        assert len(loaded) >= n_images, f"{path}: {len(loaded)} images loaded, expected {n_images}"
        name = path.split("?")[0] or "runs"
        browser.save_screenshot(str(ARTIFACTS / f"{name}.png"))
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 10_000
