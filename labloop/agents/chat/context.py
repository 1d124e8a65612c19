"""What one chat invocation runs with: the read-only engine, the model endpoint and the loop bound."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from openai import OpenAI
from sqlalchemy import Engine

from labloop.config import Settings

MAX_TOOL_ROUNDS = 6


@dataclass
class ChatContext:
    engine: Engine
    settings: Settings
    client: OpenAI
    model: str
    frames_dir: Path
    max_tool_rounds: int = MAX_TOOL_ROUNDS
    stream: bool = True
