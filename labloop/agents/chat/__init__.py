"""The chat assistant: a LangGraph tool-calling agent over read-only knowledge-base tools.
Entry points live in `labloop.agents.chat.agent` (kept out of this file so that pages importing the
molecule helpers do not pay for LangGraph)."""
