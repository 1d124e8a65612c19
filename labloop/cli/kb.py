"""`labloop kb ...`: knowledge-base imports and statistics."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the kb commands."""
