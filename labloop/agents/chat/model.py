"""One call of the chat model over the OpenAI protocol (streamed or not), returning an OpenAI-format message.
Transient failures are retried a bounded number of times; anything else becomes a `ChatError`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import openai

from labloop.agents.chat.context import ChatContext

log = logging.getLogger(__name__)

WIRE_KEYS = {"role", "content", "tool_calls", "tool_call_id"}
RETRYABLE = (openai.APIConnectionError, openai.APITimeoutError, openai.InternalServerError, openai.RateLimitError)


class ChatError(RuntimeError):
    """The chat could not answer (bad question, model endpoint failing); the message says what to do."""


def complete(
    ctx: ChatContext, messages: list[dict[str, Any]], tools: list[dict[str, Any]], emit: Callable[[Any], None]
) -> dict[str, Any]:
    wire = [{k: v for k, v in m.items() if k in WIRE_KEYS} for m in messages]
    last_exc: Exception | None = None
    for attempt in range(ctx.settings.llm_max_retries + 1):
        try:
            if ctx.stream:
                return _streamed(ctx, wire, tools, emit)
            reply = ctx.client.chat.completions.create(model=ctx.model, messages=wire, tools=tools)
            if not reply.choices:
                raise ChatError("the model endpoint returned no choices")
            return _message(reply.choices[0].message.content, [
                {"id": c.id, "type": "function", "function": {"name": c.function.name, "arguments": c.function.arguments}}
                for c in reply.choices[0].message.tool_calls or [] if c.type == "function"])
        except RETRYABLE as exc:
            last_exc = exc
            log.warning("chat model call failed (attempt %d): %s", attempt + 1, exc)
        except openai.OpenAIError as exc:
            raise ChatError(f"the model endpoint {ctx.settings.llm_base_url} refused the request: {exc}") from None
    raise ChatError(f"the model endpoint {ctx.settings.llm_base_url} kept failing "
                    f"({ctx.settings.llm_max_retries + 1} attempts): {last_exc}")


def _streamed(ctx: ChatContext, wire: list[dict[str, Any]], tools: list[dict[str, Any]],
              emit: Callable[[Any], None]) -> dict[str, Any]:
    text: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    n_chunks = 0
    for chunk in ctx.client.chat.completions.create(model=ctx.model, messages=wire, tools=tools, stream=True):
        n_chunks += 1
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        if delta.content:
            text.append(delta.content)
            emit({"token": delta.content})
        for tc in delta.tool_calls or []:
            slot = calls.setdefault(tc.index, {"id": "", "type": "function", "function": {"name": "", "arguments": ""}})
            slot["id"] = tc.id or slot["id"]
            if tc.function:
                slot["function"]["name"] += tc.function.name or ""
                slot["function"]["arguments"] += tc.function.arguments or ""
    if n_chunks == 0:
        raise ChatError(f"the model endpoint {ctx.settings.llm_base_url} returned no answer (not an event stream?)")
    return _message("".join(text) or None, [calls[i] for i in sorted(calls)])


def _message(content: str | None, tool_calls: list[dict[str, Any]]) -> dict[str, Any]:
    msg: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        msg["tool_calls"] = tool_calls
    return msg
