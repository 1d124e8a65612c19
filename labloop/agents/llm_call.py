"""One chat-completions call that never raises for endpoint trouble: the answer text, or an error message a
chemist can read, with latency and token counts for provenance."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any

import openai

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChatReply:
    content: str | None
    error: str | None
    latency_ms: float
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None


def template_hash(*parts: str) -> str:
    """A short hash of a prompt template (before filling in values): which instructions produced a record."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def call_chat(
    client: openai.OpenAI, *, model: str, messages: list[dict[str, Any]], response_format: dict | None = None,
    max_tokens: int | None = None, temperature: float = 0.2,
) -> ChatReply:
    """Send one request; timeouts, HTTP errors and unreadable responses come back as `error`."""
    kwargs: dict[str, Any] = {"model": model, "messages": messages, "temperature": temperature}
    if response_format is not None:
        kwargs["response_format"] = response_format
    if max_tokens is not None:
        kwargs["max_tokens"] = max_tokens
    began = time.perf_counter()
    try:
        response = client.chat.completions.create(**kwargs)
        content = response.choices[0].message.content if response.choices else None
        usage = response.usage
    except openai.APITimeoutError:
        return _failed(began, f"the model did not answer within {client.timeout} s (timeout)")
    except openai.APIStatusError as exc:
        return _failed(began, f"HTTP {exc.status_code} from the endpoint: {_short(exc.message)}")
    except openai.APIConnectionError as exc:
        return _failed(began, f"cannot reach the endpoint {client.base_url}: {_short(str(exc))}")
    except (openai.OpenAIError, ValueError, AttributeError, IndexError, TypeError) as exc:
        return _failed(began, f"unreadable response from the endpoint: {_short(str(exc)) or type(exc).__name__}")
    latency = (time.perf_counter() - began) * 1000
    return ChatReply(
        content=content, error=None if content else "the model returned an empty answer", latency_ms=latency,
        prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0, completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
    )


def _failed(began: float, message: str) -> ChatReply:
    log.warning("LLM call failed: %s", message)
    return ChatReply(content=None, error=message, latency_ms=(time.perf_counter() - began) * 1000)


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
