"""`labloop kb ...`: knowledge-base imports and statistics."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from labloop.cli.common import console, fail, open_engine


def register(app: typer.Typer) -> None:
    kb = typer.Typer(help="Knowledge base: import property data, show what is stored.", no_args_is_help=True)
    app.add_typer(kb, name="kb")

    @kb.command("import-molecules")
    def import_molecules(
        csv_path: Path = typer.Argument(..., exists=True, dir_okay=False, help="Bradley-format CSV (key,name,smiles,mpC,...)."),
        property: str = typer.Option("melting_point", help="Property the value column holds."),
        unit: str = typer.Option("degC", help="Unit of the values: degC, K or degF."),
        source: str = typer.Option(None, help="Dataset name recorded with every measurement (default: file name)."),
        value_column: str = typer.Option(None, help="Column with the values (default for melting_point: mpC)."),
        encoding: str = typer.Option(None, help="File encoding if not UTF-8, e.g. latin-1."),
        as_json: bool = typer.Option(False, "--json", help="Print a machine-readable summary only."),
    ) -> None:
        """Import measured properties: canonical structures (RDKit), every measurement with its source, a median
        consensus per structure. Unusable rows go to a rejects report with reasons; re-importing adds nothing."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from labloop.config import get_settings
        from labloop.knowledge_base.measurement_csv import CsvFormatError
        from labloop.knowledge_base.molecule_import import import_measurements_csv

        engine = open_engine()
        total = max(0, sum(1 for _ in csv_path.open("rb")) - 1)
        columns = [TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
        with Progress(*columns, console=console, disable=as_json, transient=True) as bar:
            task = bar.add_task("rows", total=total)
            try:
                summary = import_measurements_csv(
                    engine, csv_path, property=property, unit=unit, dataset=source, value_column=value_column,
                    encoding=encoding, reports_dir=get_settings().reports_dir,
                    progress=lambda done: bar.update(task, completed=done),
                )
            except (CsvFormatError, ValueError, UnicodeDecodeError, LookupError) as exc:
                fail(f"{exc} (nothing was imported)")
        if as_json:
            print(json.dumps(summary.as_dict()))
            return
        console.print(summary.line())
        if summary.rejects_report:
            console.print(f"rejected rows and reasons: {summary.rejects_report}", soft_wrap=True)

    @kb.command("stats")
    def stats(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
        """Row counts of every knowledge-base table."""
        from labloop.knowledge_base.stats import table_counts

        counts = table_counts(open_engine())
        if as_json:
            print(json.dumps(counts))
            return
        width = max(map(len, counts))
        for table, n in counts.items():
            console.print(f"{table:<{width}}  {n:>9,}", highlight=False)
