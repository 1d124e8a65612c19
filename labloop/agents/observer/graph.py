"""The observer graph: capture -> measure -> [describe <-> validate] -> persist -> detect -> alert -> next.
The caller compiles it with a checkpointer (SQLite or PostgreSQL in production, in-memory in tests)."""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Checkpointer

from labloop.agents.observer import nodes
from labloop.agents.observer.context import ObserverContext
from labloop.agents.observer.state import ObserverState


def build_graph() -> StateGraph:
    graph = StateGraph(ObserverState, context_schema=ObserverContext)
    graph.add_node("capture", nodes.capture)
    graph.add_node("measure", nodes.measure)
    graph.add_node("describe", nodes.describe)
    graph.add_node("validate", nodes.validate)
    graph.add_node("persist", nodes.persist)
    graph.add_node("detect", nodes.detect)
    graph.add_node("alert", nodes.alert)
    graph.add_node("next", nodes.advance)
    graph.add_edge(START, "capture")
    graph.add_conditional_edges("capture", lambda s: END if s.get("done") else "measure", ["measure", END])
    graph.add_conditional_edges("measure", nodes.route_after_measure, ["describe", "persist"])
    graph.add_edge("describe", "validate")
    graph.add_conditional_edges("validate", nodes.route_after_validate, ["describe", "persist"])
    graph.add_edge("persist", "detect")
    graph.add_edge("detect", "alert")
    graph.add_edge("alert", "next")
    graph.add_edge("next", "capture")
    return graph


def compile_graph(checkpointer: Checkpointer) -> CompiledStateGraph:
    return build_graph().compile(checkpointer=checkpointer)
