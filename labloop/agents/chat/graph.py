"""The chat graph: model -> (tools -> model)* -> end, with a bounded number of tool rounds."""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from labloop.agents.chat.context import ChatContext
from labloop.agents.chat.model import complete
from labloop.agents.chat.prompts import SYSTEM_PROMPT
from labloop.agents.chat.state import ChatState
from labloop.agents.chat.tools import TOOLBOX

MAX_HISTORY_MESSAGES = 40


def _history(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The newest messages, starting at a user turn so no tool reply loses its call. The current turn is always
    sent whole, even when its tool calls alone outnumber the window."""
    recent = messages[-MAX_HISTORY_MESSAGES:]
    first_user = next((i for i, m in enumerate(recent) if m["role"] == "user"), None)
    if first_user is None:
        last_user = max((i for i, m in enumerate(messages) if m["role"] == "user"), default=0)
        return messages[last_user:]
    return recent[first_user:]


def call_model(state: ChatState, runtime: Runtime[ChatContext]) -> dict[str, Any]:
    messages = [{"role": "system", "content": SYSTEM_PROMPT}, *_history(state["messages"])]
    reply = complete(runtime.context, messages, TOOLBOX.schemas(), runtime.stream_writer)
    return {"messages": [reply]}


def run_tools(state: ChatState, runtime: Runtime[ChatContext]) -> dict[str, Any]:
    out = []
    for call in state["messages"][-1]["tool_calls"]:
        name, args = call["function"]["name"], call["function"]["arguments"]
        outcome = TOOLBOX.call(name, args, runtime.context)
        runtime.stream_writer({"tool": name, "arguments": args, "ok": outcome.ok, "result": outcome.content[:2000]})
        out.append({"role": "tool", "tool_call_id": call["id"], "content": outcome.content, "name": name,
                    "ok": outcome.ok, "cites": outcome.cites})
    return {"messages": out, "tool_rounds": state.get("tool_rounds", 0) + 1}


def give_up(state: ChatState, runtime: Runtime[ChatContext]) -> dict[str, Any]:
    """Close the unanswered calls and end the turn with a message written by labloop, not the model."""
    limit = runtime.context.max_tool_rounds
    closing = [{"role": "tool", "tool_call_id": c["id"], "name": c["function"]["name"], "ok": False, "cites": [],
                "content": '{"error": "tool-call limit reached; not run"}'}
               for c in state["messages"][-1]["tool_calls"]]
    text = (f"I stopped after {limit} rounds of tool calls without reaching an answer. "
            "Please ask a narrower question (for example, name the run id).")
    runtime.stream_writer({"token": text})
    return {"messages": [*closing, {"role": "assistant", "content": text, "source": "labloop (no model)"}]}


def route(state: ChatState, runtime: Runtime[ChatContext]) -> str:
    if not state["messages"][-1].get("tool_calls"):
        return END
    return "give_up" if state.get("tool_rounds", 0) >= runtime.context.max_tool_rounds else "tools"


def build_graph() -> StateGraph:
    graph = StateGraph(ChatState, context_schema=ChatContext)
    graph.add_node("model", call_model)
    graph.add_node("tools", run_tools)
    graph.add_node("give_up", give_up)
    graph.add_edge(START, "model")
    graph.add_conditional_edges("model", route, ["tools", "give_up", END])
    graph.add_edge("tools", "model")
    graph.add_edge("give_up", END)
    return graph
