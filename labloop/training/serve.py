"""Serving the promoted model with vLLM: the exact `vllm serve` command, or a LoRA adapter loaded into a running
server through `/v1/load_lora_adapter`. The chat and observer reach it through LABLOOP_LLM_BASE_URL/MODEL."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from labloop.knowledge_base.models import ModelVersion
from labloop.training.errors import RegistryError, TrainingError
from labloop.training.pretrain.checkpoint import is_complete, read_model_card

log = logging.getLogger(__name__)


PROMOTED_ALIAS = "labloop-promoted"

def vllm_command(
    version: ModelVersion, *, host: str = "127.0.0.1", port: int = 8000, max_model_len: int | None = None,
    tensor_parallel_size: int = 1, extra_args: list[str] | None = None,
) -> list[str]:
    """`vllm serve` for a version: a full model is served directly; a LoRA adapter rides on its base model."""
    path = Path(version.path)
    if not is_complete(path):
        raise RegistryError(f"{version.name}: {path} is not a completely written model; it cannot be served")
    if version.kind == "lora":
        base = read_model_card(path)["base_model"]
        command = ["vllm", "serve", base, "--served-model-name", Path(base).name, "--enable-lora",
                   "--lora-modules", f"{version.name}={path}"]
    else:
        # the version's own name, and a stable alias clients can keep in LABLOOP_LLM_MODEL across promotions
        command = ["vllm", "serve", str(path), "--served-model-name", version.name, PROMOTED_ALIAS]
    command += ["--host", host, "--port", str(port), "--dtype", "auto"]
    if max_model_len:
        command += ["--max-model-len", str(max_model_len)]
    if tensor_parallel_size > 1:
        command += ["--tensor-parallel-size", str(tensor_parallel_size)]
    return command + list(extra_args or [])


def exec_vllm(command: list[str]) -> None:
    """Replace this process with vLLM (so signals and exit status are vLLM's own)."""
    if shutil.which(command[0]) is None:
        raise TrainingError(
            "vllm is not installed here. Install it on a GPU machine (`pip install 'labloop[serve]'`), use the "
            "compose `vllm` service, or run the command printed by `labloop serve --dry-run` there."
        )
    log.info("exec: %s", " ".join(command))
    os.execvp(command[0], command)


def load_lora_adapter(base_url: str, version: ModelVersion, *, api_key: str | None = None,
                      timeout_s: float = 60.0) -> dict:
    """Load a LoRA version into a running vLLM server (started with VLLM_ALLOW_RUNTIME_LORA_UPDATING=True)."""
    import httpx

    if version.kind != "lora":
        raise RegistryError(
            f"{version.name} is a full model, not a LoRA adapter; serve it with `labloop serve --version {version.id}`"
        )
    if not is_complete(Path(version.path)):
        raise RegistryError(f"{version.name}: {version.path} is not a completely written adapter")
    url = base_url.rstrip("/")
    url = (url if url.endswith("/v1") else url + "/v1") + "/load_lora_adapter"
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        reply = httpx.post(url, json={"lora_name": version.name, "lora_path": version.path}, headers=headers,
                           timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise TrainingError(f"cannot reach the vLLM server at {url}: {exc}") from None
    if reply.status_code >= 400:
        raise TrainingError(
            f"the vLLM server refused to load {version.name} (HTTP {reply.status_code}): {reply.text[:300]}. "
            "Is it running with --enable-lora and VLLM_ALLOW_RUNTIME_LORA_UPDATING=True?"
        )
    return {"url": url, "lora_name": version.name, "lora_path": version.path, "status": reply.status_code,
            "response": reply.text[:500]}
