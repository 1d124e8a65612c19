"""The `labloop` command: help, config with masked secrets, kb import/stats, schema refusal."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from labloop.cli import app

runner = CliRunner()


def test_help_lists_the_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("config", "db", "kb"):
        assert command in result.output


def test_help_runs_as_a_real_process_quickly():
    out = subprocess.run([sys.executable, "-m", "labloop", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "Usage" in out.stdout


def test_config_masks_secrets(settings, monkeypatch):
    monkeypatch.setenv("LABLOOP_LLM_API_KEY", "sk-very-secret")
    monkeypatch.setenv("LABLOOP_DATABASE_URL", "postgresql+psycopg://lab:hunter2@db.example/labloop")
    from labloop.config import get_settings

    get_settings.cache_clear()
    result = runner.invoke(app, ["config", "--json"])
    assert result.exit_code == 0
    values = json.loads(result.output)
    assert values["llm_api_key"] == "****"
    assert "hunter2" not in result.output and "sk-very-secret" not in result.output
    assert values["database_url"] == "postgresql+psycopg://lab:***@db.example/labloop"


def test_config_reads_labloop_toml(settings, tmp_path, monkeypatch):
    (tmp_path / "labloop.toml").write_text('llm_model = "llama-lab"\nllm_timeout_s = 5\n')
    from labloop.config import get_settings

    get_settings.cache_clear()
    values = json.loads(runner.invoke(app, ["config", "--json"]).output)
    assert values["llm_model"] == "llama-lab" and values["llm_timeout_s"] == 5
    monkeypatch.setenv("LABLOOP_LLM_MODEL", "from-env")
    get_settings.cache_clear()
    assert json.loads(runner.invoke(app, ["config", "--json"]).output)["llm_model"] == "from-env"


def test_kb_import_and_stats(settings, tmp_path):
    csv_path = tmp_path / "mp.csv"
    csv_path.write_text("key,name,smiles,mpC\n1,naphthalene,c1ccc2ccccc2c1,80.2\n2,bad,c1cncn1,90\n")
    result = runner.invoke(app, ["kb", "import-molecules", str(csv_path), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert (summary["measurements_added"], summary["structures"], summary["rejected"]) == (1, 1, 1)
    human = runner.invoke(app, ["kb", "import-molecules", str(csv_path)])
    assert "imported 0 measurements of 1 structures, 1 rejected" in human.output
    stats = json.loads(runner.invoke(app, ["kb", "stats", "--json"]).output)
    assert stats["molecule"] == 1 and stats["propertymeasurement"] == 1


def test_kb_import_bad_file_is_a_clean_error(settings, tmp_path):
    csv_path = tmp_path / "wrong.csv"
    csv_path.write_text("a,b\n1,2\n")
    result = runner.invoke(app, ["kb", "import-molecules", str(csv_path)])
    assert result.exit_code == 1
    assert "lacks column" in result.output and "nothing was imported" in result.output
    assert "Traceback" not in result.output


def test_commands_refuse_an_old_schema_when_auto_migrate_is_off(settings, monkeypatch):
    monkeypatch.setenv("LABLOOP_AUTO_MIGRATE", "false")
    from labloop.config import get_settings

    get_settings.cache_clear()
    result = runner.invoke(app, ["kb", "stats"])
    assert result.exit_code == 1 and "labloop db upgrade" in result.output
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["kb", "stats"]).exit_code == 0


@pytest.fixture(autouse=True)
def _fresh_settings_cache():
    from labloop.config import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
