"""The one place that builds `openai` clients for an OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp)."""

from __future__ import annotations

from openai import AsyncOpenAI, OpenAI

from labloop.config import Settings


class LLMNotConfigured(RuntimeError):
    """No endpoint is configured; the message says how to configure one."""

    def __init__(self, feature: str) -> None:
        super().__init__(
            f"{feature} needs a language model, and none is configured. Set LABLOOP_LLM_BASE_URL "
            "(e.g. http://127.0.0.1:8000/v1 for `labloop serve`, or https://api.openai.com/v1), "
            "LABLOOP_LLM_MODEL, and LABLOOP_LLM_API_KEY if the endpoint needs one."
        )


def _resolve(settings: Settings, base_url: str | None, api_key: str | None, feature: str) -> tuple[str, str]:
    url = base_url or settings.llm_base_url
    if not url:
        raise LLMNotConfigured(feature)
    key = api_key or (settings.llm_api_key.get_secret_value() if settings.llm_api_key else None) or "not-needed"
    return url, key


def make_client(
    settings: Settings, *, base_url: str | None = None, api_key: str | None = None, timeout_s: float | None = None,
    feature: str = "this feature",
) -> OpenAI:
    """A synchronous client; retries are labloop's job (bounded, recorded), so the client's own are off."""
    url, key = _resolve(settings, base_url, api_key, feature)
    return OpenAI(base_url=url, api_key=key, timeout=timeout_s or settings.llm_timeout_s, max_retries=0)


def make_async_client(
    settings: Settings, *, base_url: str | None = None, api_key: str | None = None, timeout_s: float | None = None,
    feature: str = "this feature", max_connections: int = 100,
) -> AsyncOpenAI:
    import httpx
    from openai import DefaultAsyncHttpxClient

    url, key = _resolve(settings, base_url, api_key, feature)
    http_client = DefaultAsyncHttpxClient(
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    )
    return AsyncOpenAI(
        base_url=url, api_key=key, timeout=timeout_s or settings.llm_timeout_s, max_retries=0, http_client=http_client
    )
