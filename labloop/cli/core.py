"""`labloop config` and `labloop db ...`."""

from __future__ import annotations

import json

import typer

from labloop.cli.common import console, open_engine


def register(app: typer.Typer) -> None:
    db = typer.Typer(help="Database schema: upgrade, show the current revision.", no_args_is_help=True)
    app.add_typer(db, name="db")

    @app.command("config")
    def config_cmd(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
        """Print the effective settings (environment, labloop.toml, defaults) with secrets masked."""
        from labloop.config import get_settings

        values = get_settings().masked()
        if as_json:
            console.print_json(json.dumps(values))
            return
        for key, value in values.items():
            console.print(f"[bold]{key}[/] = {value if value is not None else '[dim](not set)[/]'}", highlight=False)

    @db.command("upgrade")
    def db_upgrade() -> None:
        """Create or upgrade the database schema to the newest revision."""
        from labloop.knowledge_base.migrate import current_revision

        engine = open_engine(migrate=True)
        console.print(f"database at schema revision {current_revision(engine)}")

    @db.command("current")
    def db_current() -> None:
        """Show the schema revision of the database and the one this labloop needs."""
        from labloop.config import get_settings
        from labloop.knowledge_base.db import make_engine
        from labloop.knowledge_base.migrate import current_revision, head_revision

        engine = make_engine(get_settings().effective_database_url)
        console.print(f"current: {current_revision(engine) or '(empty)'}   needed: {head_revision()}")
