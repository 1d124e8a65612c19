"""The compose stack: every service command is a real `labloop` command with real options, every LABLOOP_*
variable is a Settings field, and .env.example documents every setting."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import typer
import yaml

from labloop.cli import app
from labloop.config import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker" / "compose.yml"
ENV_EXAMPLE = ROOT / "docker" / ".env.example"
LABLOOP_IMAGES = ("labloop-app", "labloop-trainer")
# Variables a third-party image reads, allowed in its environment.
FOREIGN_ENV = {"postgres": {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}, "vllm": {"HF_HUB_OFFLINE"}}


def load() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def settings_env_names() -> set[str]:
    return {f"LABLOOP_{name.upper()}" for name in Settings.model_fields}


def substitute_defaults(value: str) -> str:
    """What compose makes of `${VAR:-default}` when VAR is unset."""
    return re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", value)


def is_group(command) -> bool:
    return hasattr(command, "commands")


def resolve_command(words: list[str]):
    """The click command that `labloop WORDS...` runs, and the words left for its options."""
    command = typer.main.get_command(app)
    rest = list(words)
    while is_group(command) and rest and rest[0] in command.commands:
        command = command.commands[rest.pop(0)]
    return command, rest


def labloop_services(compose: dict) -> dict[str, dict]:
    return {name: svc for name, svc in compose["services"].items()
            if any(img in svc.get("image", "") for img in LABLOOP_IMAGES)}


def test_every_labloop_service_runs_a_real_command_with_real_options():
    services = labloop_services(load())
    assert {"migrate", "observer", "dashboard", "retrain"} <= set(services)
    for name, svc in services.items():
        words = [substitute_defaults(str(w)) for w in svc["command"]]
        command, rest = resolve_command(words)
        assert not is_group(command), f"{name}: {words} names no labloop command"
        ctx = command.make_context(f"labloop {name}", rest)  # raises on unknown options or bad values
        assert ctx.command is command, name


def test_the_command_check_rejects_what_labloop_would_reject():
    command, rest = resolve_command(["dashboard", "--no-such-option", "1"])
    with pytest.raises(Exception, match="no-such-option"):
        command.make_context("labloop dashboard", rest)
    assert is_group(resolve_command(["no-such-command"])[0])


def test_every_labloop_variable_is_a_setting():
    compose = load()
    known = settings_env_names()
    for name, svc in compose["services"].items():
        env = svc.get("environment") or {}
        keys = set(env) if isinstance(env, dict) else {item.split("=", 1)[0] for item in env}
        image = svc.get("image", "")
        if any(img in image for img in LABLOOP_IMAGES):
            assert keys <= known, f"{name}: {sorted(keys - known)} are not Settings fields"
        else:
            allowed = next((v for k, v in FOREIGN_ENV.items() if k in image), set())
            assert keys <= allowed, f"{name}: unexpected variables {sorted(keys - allowed)}"


def test_env_example_documents_every_setting_and_compose_variable():
    text = ENV_EXAMPLE.read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.M))
    assert settings_env_names() <= documented
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", COMPOSE.read_text()))
    assert used <= documented, sorted(used - documented)


def test_stack_shape():
    compose = load()
    svc = compose["services"]
    assert svc["postgres"]["healthcheck"]["test"]
    assert "postgres-data" in compose["volumes"] and "labloop-data" in compose["volumes"]
    for name in ("observer", "dashboard", "retrain"):
        assert svc[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert svc["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert svc["vllm"]["image"].startswith("vllm/vllm-openai")
    assert svc["vllm"]["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]
    served = svc["vllm"]["command"][svc["vllm"]["command"].index("--served-model-name") + 1]
    assert substitute_defaults(served) == substitute_defaults(svc["dashboard"]["environment"]["LABLOOP_LLM_MODEL"])
    assert all(p.startswith("127.0.0.1:") for p in svc["dashboard"]["ports"])
    assert svc["observer"]["devices"] and svc["observer"]["restart"] == "unless-stopped"


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose is not installed")
def test_compose_file_validates():
    out = subprocess.run(["docker-compose", "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_dockerfiles_install_only_from_registries_and_the_project():
    for dockerfile in (ROOT / "docker").glob("*.Dockerfile"):
        text = dockerfile.read_text()
        assert not re.search(r"\b(curl|wget)\b|https?://", text.split("FROM", 1)[1]), dockerfile.name
        assert "-c constraints.txt" in text, f"{dockerfile.name} must pin torch through constraints.txt"
