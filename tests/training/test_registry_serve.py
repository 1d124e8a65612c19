"""Registry (promote, gate, rollback, incomplete models) on SQLite and PostgreSQL; vLLM command and LoRA loading
over real HTTP; shipped accelerate configs."""

from __future__ import annotations

import json
import shlex
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from labloop.cli import app
from labloop.training.errors import RegistryError, TrainingError
from labloop.training.pretrain.checkpoint import COMPLETE_MARKER
from labloop.training.registry import find_version, gate, promote, promoted_version, record_evaluation, \
    register_version, rollback
from labloop.training.serve import load_lora_adapter, vllm_command


def _model_dir(root: Path, name: str, *, complete: bool = True) -> Path:
    path = root / name
    path.mkdir(parents=True)
    (path / "config.json").write_text("{}")
    if complete:
        (path / COMPLETE_MARKER).write_text(json.dumps({"base_model": str(root / "base"), "kind": "full", "toy": False}))
    return path


def _version(engine, root: Path, name: str, *, mae: float | None, rate: float = 1.0, toy: bool = False,
             kind: str = "full"):
    version = register_version(engine, run_id=None, model_dir=_model_dir(root, name), base_model="base", kind=kind,
                               toy=toy, data_manifest_hash="h", metrics={})
    if mae is not None:
        record_evaluation(engine, version.id, {"answer_rate": rate, "mae_k": mae,
                                               "splits": {"unseen": {"mae_k": mae}}})
    return find_version(engine, version.id)


def test_incomplete_model_is_never_registered(engine, tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="not a completely written model"):
        register_version(engine, run_id=None, model_dir=_model_dir(tmp_path, "half", complete=False),
                         base_model="b", kind="full", toy=False, data_manifest_hash="", metrics={})


def test_promotion_gate_and_rollback(engine, tmp_path: Path) -> None:
    first = _version(engine, tmp_path, "a", mae=40.0)
    assert promote(engine, first.name)[0].promoted
    better = _version(engine, tmp_path, "b", mae=30.0)
    slightly_worse = _version(engine, tmp_path, "c", mae=34.0)
    much_worse = _version(engine, tmp_path, "d", mae=50.0)
    mute = _version(engine, tmp_path, "e", mae=20.0, rate=0.9)
    unevaluated = _version(engine, tmp_path, "f", mae=None)
    toy = _version(engine, tmp_path, "g", mae=1.0, toy=True)
    assert gate(better, first).promote
    assert gate(slightly_worse, better, tolerance_k=5).promote      # within tolerance
    assert not gate(much_worse, better, tolerance_k=5).promote
    assert "answer rate" in gate(mute, first).reasons[0]
    assert not gate(unevaluated, first).promote
    assert "toy" in " ".join(gate(toy, first).reasons)
    promote(engine, better.id)
    with pytest.raises(RegistryError, match="worse"):
        promote(engine, much_worse.id)
    forced, decision = promote(engine, much_worse.id, force=True)
    assert forced.promoted and not decision.promote
    old, restored = rollback(engine)
    assert (old.id, restored.id) == (much_worse.id, better.id)
    old, restored = rollback(engine)
    assert (old.id, restored.id) == (better.id, first.id)
    with pytest.raises(RegistryError, match="only model ever promoted"):
        rollback(engine)
    assert promoted_version(engine).id == first.id
    shutil.rmtree(Path(better.path))
    with pytest.raises(RegistryError, match="not a completely written model"):
        promote(engine, better.id, force=True)


def test_models_cli(settings, tmp_path: Path) -> None:
    from labloop.knowledge_base.db import get_engine

    engine = get_engine(settings)
    version = _version(engine, tmp_path, "m", mae=12.0)
    runner = CliRunner()
    listed = runner.invoke(app, ["models", "list", "--json"])
    assert listed.exit_code == 0 and json.loads(listed.stdout)[0]["name"] == version.name
    assert runner.invoke(app, ["models", "promote", version.name]).exit_code == 0
    unknown = runner.invoke(app, ["models", "promote", "nope"])
    assert unknown.exit_code == 1 and "known versions" in unknown.output
    nothing = runner.invoke(app, ["models", "rollback"])
    assert nothing.exit_code == 1 and "nothing to roll back" in nothing.output
    dry = runner.invoke(app, ["serve", "--dry-run", "--port", "8123"])
    assert dry.exit_code == 0
    assert shlex.split(dry.stdout.strip()) == [
        "vllm", "serve", version.path, "--served-model-name", version.name, "labloop-promoted",
        "--host", "127.0.0.1", "--port", "8123",
        "--dtype", "auto"]


def test_vllm_command_for_lora_and_incomplete(sqlite_engine, tmp_path: Path) -> None:
    lora = _version(sqlite_engine, tmp_path, "adapter", mae=1.0, kind="lora")
    command = vllm_command(lora, tensor_parallel_size=2, max_model_len=4096)
    assert command[:3] == ["vllm", "serve", str(tmp_path / "base")]
    assert ["--enable-lora", "--lora-modules", f"{lora.name}={lora.path}"] == command[5:8]
    assert command[-4:] == ["--max-model-len", "4096", "--tensor-parallel-size", "2"]
    (Path(lora.path) / COMPLETE_MARKER).unlink()
    with pytest.raises(RegistryError, match="cannot be served"):
        vllm_command(lora)


class _FakeVLLM(BaseHTTPRequestHandler):
    """A small real HTTP server answering /v1/load_lora_adapter like vLLM does."""

    received: list = []

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append((self.path, body))
        ok = self.path == "/v1/load_lora_adapter" and Path(body["lora_path"]).is_dir()
        self.send_response(200 if ok else 400)
        self.end_headers()
        self.wfile.write(b"Success: LoRA adapter loaded" if ok else b"bad request")

    def log_message(self, *args) -> None:
        pass


def test_load_lora_adapter_over_http(sqlite_engine, tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeVLLM)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        lora = _version(sqlite_engine, tmp_path, "adapter", mae=1.0, kind="lora")
        result = load_lora_adapter(url, lora)
        assert result["status"] == 200
        assert _FakeVLLM.received[-1] == ("/v1/load_lora_adapter", {"lora_name": lora.name, "lora_path": lora.path})
        full = _version(sqlite_engine, tmp_path, "full", mae=1.0)
        with pytest.raises(RegistryError, match="not a LoRA adapter"):
            load_lora_adapter(url, full)
        lora.path = str(tmp_path / "gone")
        with pytest.raises(RegistryError):
            load_lora_adapter(url, lora)
    finally:
        server.shutdown()
    with pytest.raises(TrainingError, match="cannot reach"):
        load_lora_adapter(url, find_version(sqlite_engine, "1"), timeout_s=2)


@pytest.mark.parametrize("name", ["fsdp", "deepspeed"])
def test_accelerate_configs_ship_and_parse(name: str) -> None:
    from labloop.training.configs import config_path

    config = yaml.safe_load(config_path(name).read_text())
    assert config["mixed_precision"] == "bf16"
    assert config["distributed_type"] == {"fsdp": "FSDP", "deepspeed": "DEEPSPEED"}[name]
    with pytest.raises(ValueError):
        config_path("horovod")


def test_retrain_schedule() -> None:
    from datetime import datetime, time, timedelta, timezone

    from labloop.training.schedule import next_run, parse_at, parse_interval

    assert parse_interval("24h") == timedelta(days=1) and parse_interval("30m") == timedelta(minutes=30)
    assert parse_at("02:00") == time(2, 0)
    for bad in ("", "0h", "1w", "h", "-1h"):
        with pytest.raises(ValueError):
            parse_interval(bad)
    for bad in ("24:00", "2", "02:60", "noon"):
        with pytest.raises(ValueError):
            parse_at(bad)
    now = datetime(2025, 1, 1, 3, 0, tzinfo=timezone.utc)
    assert next_run(now, timedelta(days=1), time(2, 0)) == datetime(2025, 1, 2, 2, 0, tzinfo=timezone.utc)
    assert next_run(now, timedelta(hours=6), time(2, 0)) == datetime(2025, 1, 1, 8, 0, tzinfo=timezone.utc)
    assert next_run(now, timedelta(hours=1), None) == now + timedelta(hours=1)
    result = CliRunner().invoke(app, ["retrain", "--tiny", "--every", "soon"])
    assert result.exit_code == 1 and "not like 30m" in result.output


def test_promotion_and_rollback_repoint_the_serving_link(sqlite_engine, tmp_path: Path) -> None:
    models = tmp_path / "models"
    link = models / "promoted"
    first = _version(sqlite_engine, models, "a", mae=40.0)
    promote(sqlite_engine, first.id, serving_link=link)
    assert link.is_symlink() and link.resolve() == Path(first.path).resolve()
    assert not Path(link.readlink()).is_absolute()  # relative, so it survives a different mount point
    second = _version(sqlite_engine, models, "b", mae=30.0)
    promote(sqlite_engine, second.id, serving_link=link)
    assert link.resolve() == Path(second.path).resolve()
    refused = _version(sqlite_engine, models, "c", mae=90.0)
    with pytest.raises(RegistryError):
        promote(sqlite_engine, refused.id, serving_link=link)
    assert link.resolve() == Path(second.path).resolve()  # a refused promotion leaves serving alone
    rollback(sqlite_engine, serving_link=link)
    assert link.resolve() == Path(first.path).resolve()
    assert [p.name for p in models.iterdir() if p.name.startswith(".")] == []  # no temporary links left


@pytest.mark.parametrize(("evaluation", "promoted"), [
    ({"n": 20, "answered": 19, "answer_rate": 0.95, "mae_k": 25.0}, True),       # exactly 95 %: enough
    ({"n": 20000, "answered": 18999, "answer_rate": 0.95, "mae_k": 10.0}, False),  # 94.995 %, stored rounded up
    ({"answer_rate": float("nan"), "mae_k": 10.0}, False),
    ({"answer_rate": 1.0, "mae_k": float("nan")}, False),
    ({"answer_rate": 1.0, "mae_k": float("inf")}, False),
    ({"answer_rate": None, "mae_k": 10.0}, False),
    ({"answer_rate": "n/a", "mae_k": 10.0}, False),
])
def test_gate_refuses_missing_or_non_finite_metrics(tmp_path: Path, evaluation: dict, promoted: bool) -> None:
    from labloop.knowledge_base.models import ModelVersion

    def version(i: int, metrics: dict) -> ModelVersion:
        return ModelVersion(id=i, name=f"labloop-v{i}", path=str(_model_dir(tmp_path, f"m{i}")), base_model="b",
                            kind="full", toy=False, data_manifest_hash="h", metrics={"eval": metrics})

    current = version(1, {"answer_rate": 1.0, "mae_k": 20.0})
    decision = gate(version(2, evaluation), current)
    assert decision.promote is promoted, decision.reasons
