"""The chat graph's state: OpenAI-format messages (kept per thread by the checkpointer) and the tool-round count."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict


class ChatState(TypedDict, total=False):
    messages: Annotated[list[dict[str, Any]], operator.add]
    tool_rounds: int
