"""Text from the configured language model, regenerated when it cites a number that is not in the records."""

from __future__ import annotations

import logging
from typing import Any

from labloop.agents.llm_call import ChatReply, call_chat, template_hash
from labloop.agents.llm_client import LLMNotConfigured, make_client
from labloop.agents.notes.numbers import AllowedNumbers, NoteRejected, unsupported_numbers
from labloop.agents.notes.prompts import REGENERATE
from labloop.config import Settings
from labloop.knowledge_base.observations import Provenance

log = logging.getLogger(__name__)


class WriterFailed(RuntimeError):
    """The language model gave no usable text (endpoint errors); the message carries the last error."""


def generate_checked(
    settings: Settings, messages: list[dict[str, Any]], allowed: AllowedNumbers, *, templates: tuple[str, ...],
    input_hashes: list[str], what: str, check_suffix: str = "", model: str | None = None,
) -> tuple[str, Provenance]:
    """Ask, check every number (in the text plus `check_suffix`), and ask again with the offending values named;
    refuses after 1 + llm_max_retries attempts."""
    model = model or settings.llm_model
    if not settings.llm_configured or not model:
        raise LLMNotConfigured(f"writing a {what} with a language model")
    client = make_client(settings, feature=f"the {what} writer")
    replies: list[ChatReply] = []
    bad: list[str] = []
    error = ""
    for _ in range(1 + settings.llm_max_retries):
        reply = call_chat(client, model=model, messages=messages, max_tokens=1800)
        replies.append(reply)
        if not reply.ok:
            error = reply.error or "no answer"
            continue
        bad = unsupported_numbers(reply.content + "\n" + check_suffix, allowed)
        if not bad:
            provenance = Provenance(
                source="llm", model=model, endpoint=settings.llm_base_url, prompt_hash=template_hash(*templates),
                input_hashes=input_hashes, latency_ms=round(sum(r.latency_ms for r in replies), 1),
                prompt_tokens=sum(r.prompt_tokens for r in replies),
                completion_tokens=sum(r.completion_tokens for r in replies),
            )
            return reply.content.strip(), provenance
        log.warning("%s draft cites values not in the records (%s); asking again", what, ", ".join(bad))
        messages = [*messages, {"role": "assistant", "content": reply.content},
                    {"role": "user", "content": REGENERATE.format(bad=", ".join(bad))}]
    if bad:
        raise NoteRejected(bad, what)
    raise WriterFailed(f"the language model gave no usable {what}: {error}")
