"""The chat assistant: a LangGraph tool-calling agent over read-only knowledge-base tools."""

from labloop.agents.chat.agent import Answer, ChatAgent, ChatError, open_agent

__all__ = ["Answer", "ChatAgent", "ChatError", "open_agent"]
