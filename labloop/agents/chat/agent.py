"""Asking the chat a question: validates it, runs the graph on one thread (memory in a SQLite checkpointer in
the data dir), and returns the answer with the record ids it cites and the tool calls it made."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite import SqliteSaver
from sqlalchemy import Engine

from labloop.agents.chat.context import MAX_TOOL_ROUNDS, ChatContext
from labloop.agents.chat.graph import build_graph
from labloop.agents.chat.model import ChatError
from labloop.agents.chat.toolbox import citations_in
from labloop.agents.llm_client import LLMNotConfigured, make_client
from labloop.config import Settings
from labloop.knowledge_base.db import make_readonly_engine


MAX_QUESTION_CHARS = 4000
MEMORY_FILE = "chat-memory.sqlite"

__all__ = ["Answer", "ChatAgent", "ChatError", "open_agent"]


@dataclass
class Answer:
    """The model's answer. `citations` are ids it cited that a tool really returned this turn or earlier in the
    thread; `unverified` are ids it cited that no tool returned."""

    text: str
    thread_id: str
    model: str
    endpoint: str | None
    source: str = "llm"
    citations: list[str] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)


class ChatAgent:
    def __init__(self, settings: Settings, engine: Engine, checkpointer: BaseCheckpointSaver, *,
                 stream: bool = True, max_tool_rounds: int = MAX_TOOL_ROUNDS) -> None:
        if not settings.llm_configured:
            raise LLMNotConfigured("the chat assistant")
        self.settings = settings
        self.context = ChatContext(
            engine=engine, settings=settings, client=make_client(settings, feature="the chat assistant"),
            model=settings.llm_model or "", frames_dir=settings.frames_dir, max_tool_rounds=max_tool_rounds,
            stream=stream)
        self.graph = build_graph().compile(checkpointer=checkpointer)

    def ask(self, question: str, *, thread_id: str = "default",
            on_event: Callable[[dict[str, Any]], None] | None = None) -> Answer:
        """Answer one question in a thread. `on_event` receives {"token": ...} and {"tool": ...} as they happen."""
        text = (question or "").strip()
        if not text:
            raise ChatError("the question is empty")
        if len(text) > MAX_QUESTION_CHARS:
            raise ChatError(f"the question is {len(text)} characters long; please keep it under {MAX_QUESTION_CHARS}")
        config = {"configurable": {"thread_id": thread_id}}
        before = len(self.history(thread_id))
        final: dict[str, Any] = {}
        for mode, chunk in self.graph.stream({"messages": [{"role": "user", "content": text}], "tool_rounds": 0},
                                             config, context=self.context, stream_mode=["custom", "values"]):
            if mode == "custom" and on_event:
                on_event(chunk)
            elif mode == "values":
                final = chunk
        messages = final.get("messages", [])
        turn = messages[before:]
        reply = messages[-1] if messages else {}
        answer_text = (reply.get("content") or "").strip()
        returned = {c for m in messages if m["role"] == "tool" for c in m.get("cites", [])}
        cited = citations_in(answer_text)
        return Answer(
            text=answer_text, thread_id=thread_id, model=self.context.model, endpoint=self.settings.llm_base_url,
            source=reply.get("source", "llm"), citations=[c for c in cited if c in returned],
            unverified=[c for c in cited if c not in returned],
            tool_calls=[{"name": m.get("name"), "ok": m.get("ok"), "result": m["content"][:500]}
                        for m in turn if m["role"] == "tool"])

    def history(self, thread_id: str) -> list[dict[str, Any]]:
        state = self.graph.get_state({"configurable": {"thread_id": thread_id}})
        return list(state.values.get("messages", [])) if state and state.values else []


def memory_saver(path: Path) -> SqliteSaver:
    """The per-thread chat memory: a SQLite file separate from the knowledge base."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    return SqliteSaver(conn)


def open_agent(settings: Settings, *, stream: bool = True, max_tool_rounds: int = MAX_TOOL_ROUNDS) -> ChatAgent:
    """The chat for this deployment: read-only engine on the knowledge base, memory in the data dir."""
    if not settings.llm_configured:
        raise LLMNotConfigured("the chat assistant")
    try:
        engine = make_readonly_engine(settings.effective_database_url)
    except FileNotFoundError as exc:
        raise ChatError(f"{exc} (or `labloop demo` for sample data)") from None
    return ChatAgent(settings, engine, memory_saver(settings.data_dir / MEMORY_FILE), stream=stream,
                     max_tool_rounds=max_tool_rounds)
