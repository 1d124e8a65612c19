"""The `labloop` command. Each area registers its commands from its own module; heavy imports stay
inside the command functions so that `labloop --help` is fast."""

from __future__ import annotations

import typer

from labloop.cli import chat, core, corpus, devices, kb, learning, observer

app = typer.Typer(
    name="labloop",
    help="Lab assistant for a chemistry lab with a dispensing robot: record runs, observe them, "
    "write lab notes, chat about results and train a local model on the lab's own records.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

for _area in (core, kb, devices, observer, chat, corpus, learning):
    _area.register(app)


def main() -> None:
    app()
