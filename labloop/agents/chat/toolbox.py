"""The chat's tool registry: OpenAI tool schemas from pydantic argument models, and a dispatcher that turns
every failure (unknown tool, malformed or mistyped arguments, missing records) into a message for the model."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from labloop.knowledge_base.queries import RecordNotFound

log = logging.getLogger(__name__)

MAX_RESULT_CHARS = 12_000
CITATION_RE = re.compile(r"\b(run|frame|observation|note|revision|measurement|molecule|result|event|gap|"
                         r"experiment|model_version|label):(\d+)\b")


class ToolFailure(Exception):
    """An expected failure inside a tool (bad value, nothing found); its message goes back to the model."""


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    args: type[BaseModel]
    fn: Callable[..., Any]

    def schema(self) -> dict[str, Any]:
        params = self.args.model_json_schema()
        params.pop("title", None)
        return {"type": "function", "function": {"name": self.name, "description": self.description,
                                                 "parameters": params}}


@dataclass
class ToolOutcome:
    """What a tool call produced: the text the model reads, and the record ids it returned."""

    content: str
    ok: bool
    cites: list[str] = field(default_factory=list)


class Toolbox:
    def __init__(self, tools: list[Tool]) -> None:
        self.tools = {t.name: t for t in tools}

    def schemas(self) -> list[dict[str, Any]]:
        return [t.schema() for t in self.tools.values()]

    def call(self, name: str, raw_arguments: str | None, deps: Any) -> ToolOutcome:
        """Run one tool call from the model. Never raises for anything the model can get wrong."""
        tool = self.tools.get(name)
        if tool is None:
            return ToolOutcome(_error(f"there is no tool named {name!r}. This assistant is read-only and has "
                                      f"only these tools: {', '.join(sorted(self.tools))}"), ok=False)
        try:
            parsed = json.loads(raw_arguments or "{}")
        except json.JSONDecodeError as exc:
            return ToolOutcome(_error(f"arguments of {name} are not valid JSON ({exc.msg})"), ok=False)
        if not isinstance(parsed, dict):
            return ToolOutcome(_error(f"arguments of {name} must be a JSON object"), ok=False)
        try:
            args = tool.args.model_validate(parsed)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in exc.errors())
            return ToolOutcome(_error(f"wrong arguments for {name}: {problems}"), ok=False)
        try:
            result = tool.fn(deps, args)
        except (RecordNotFound, ToolFailure) as exc:
            return ToolOutcome(_error(str(exc)), ok=False)
        except Exception as exc:  # a tool bug must not end the conversation; it is logged and reported
            log.exception("chat tool %s failed", name)
            return ToolOutcome(_error(f"{name} failed: {type(exc).__name__}: {exc}"), ok=False)
        text = json.dumps(result, default=str, ensure_ascii=False)
        if len(text) > MAX_RESULT_CHARS:
            text = text[:MAX_RESULT_CHARS] + ' ... [truncated: ask for fewer items]'
        return ToolOutcome(text, ok=True, cites=sorted(set(m.group(0) for m in CITATION_RE.finditer(text))))


def _error(message: str) -> str:
    return json.dumps({"error": message})


def citations_in(text: str) -> list[str]:
    """Record ids cited in an answer, in order of first appearance."""
    return list(dict.fromkeys(m.group(0) for m in CITATION_RE.finditer(text or "")))
