"""Commands of the corpus area: `labloop corpus build`, `labloop corpus show`, `labloop corpus facts`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from labloop.cli.common import console, fail, open_engine, setup_logging

corpus_app = typer.Typer(
    help="Turn knowledge-base records into training text: styled texts + reasons written by an LLM, number-checked, "
    "deduplicated and split without leaking held-out compounds.",
    no_args_is_help=True,
)

DEFAULT_STYLES = "textbook,conversation,classroom,Q&A,interview,journal"


@corpus_app.command("build")
def build(
    out: Annotated[Path, typer.Option("--out", help="Output directory (dataset/, eval/, manifest.json, cache/).")],
    texts_per_fact: Annotated[int, typer.Option(help="Styled prompts per fact (the source found ~16 needed).")] = 16,
    styles: Annotated[str, typer.Option(help="Comma-separated styles drawn at random per prompt.")] = DEFAULT_STYLES,
    reasons: Annotated[bool, typer.Option(help="Also write chain-of-thought reasons for property facts.")] = True,
    reasons_per_fact: Annotated[int, typer.Option(help="Reasons per property fact.")] = 1,
    split: Annotated[str, typer.Option(help="Hold out compounds by 'random' or 'scaffold' (Bemis-Murcko).")] = "random",
    test_fraction: Annotated[float, typer.Option(help="Share of compounds held out of training.")] = 0.1,
    validation_fraction: Annotated[float, typer.Option(help="Share of training texts kept for validation.")] = 0.05,
    holdout: Annotated[Optional[Path], typer.Option(help="CSV of compounds to hold out (name/smiles/inchikey columns).")] = None,
    seed: Annotated[int, typer.Option(help="Seed: same seed and inputs give the same corpus.")] = 0,
    backend: Annotated[str, typer.Option(help="'openai' (any OpenAI-compatible endpoint) or 'vllm' (local GPU).")] = "openai",
    model: Annotated[Optional[str], typer.Option(help="Generator model (default: LABLOOP_LLM_MODEL).")] = None,
    base_url: Annotated[Optional[str], typer.Option(help="Endpoint (default: LABLOOP_LLM_BASE_URL).")] = None,
    concurrency: Annotated[int, typer.Option(help="Requests in flight at once.")] = 16,
    timeout: Annotated[Optional[float], typer.Option(help="Seconds per request (default: LABLOOP_LLM_TIMEOUT_S).")] = None,
    retries: Annotated[int, typer.Option(help="Retries of a failed request before it counts as failed.")] = 2,
    temperature: Annotated[float, typer.Option(help="Sampling temperature.")] = 0.8,
    max_tokens: Annotated[int, typer.Option(help="Longest answer in tokens.")] = 512,
    replay: Annotated[Optional[Path], typer.Option(help="General text to mix in (.jsonl with 'text', or a folder of .txt).")] = None,
    replay_ratio: Annotated[float, typer.Option(help="Replay texts per generated training text.")] = 0.0,
    property_name: Annotated[str, typer.Option("--property", help="Molecular property to write about ('all' for every one).")] = "melting_point",
    max_facts: Annotated[Optional[int], typer.Option(help="At most this many property facts (a trial build).")] = None,
    runs: Annotated[bool, typer.Option(help="Include run facts (setup, dispenses, turbidity, results).")] = True,
    notes: Annotated[bool, typer.Option(help="Include lab notes and reflections.")] = True,
    facts: Annotated[Optional[Path], typer.Option(help="Read facts from this JSONL file instead of the knowledge base.")] = None,
    cache_dir: Annotated[Optional[Path], typer.Option(help="Request cache (default: OUT/cache).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    """Build a training corpus. Every request is cached: rerun the same command to resume an interrupted build."""
    from labloop.agents.llm_client import LLMNotConfigured
    from labloop.config import get_settings
    from labloop.training.corpus.backends import BackendUnavailable, EndpointUnavailable
    from labloop.training.corpus.build import build_corpus
    from labloop.training.corpus.config import CorpusConfig, CorpusConfigError
    from labloop.training.corpus.facts import FactsFileError
    from labloop.training.corpus.replay import ReplayFileError
    from labloop.training.corpus.splits import HoldoutFileError

    setup_logging(verbose)
    config = CorpusConfig(
        out_dir=out, texts_per_fact=texts_per_fact, styles=tuple(s.strip() for s in styles.split(",") if s.strip()),
        reasons=reasons, reasons_per_fact=reasons_per_fact, split=split, test_fraction=test_fraction,
        validation_fraction=validation_fraction, holdout_csv=holdout, seed=seed, backend=backend, model=model,
        base_url=base_url, concurrency=concurrency, timeout_s=timeout, retries=retries, temperature=temperature,
        max_tokens=max_tokens, replay_path=replay, replay_ratio=replay_ratio,
        property_name=None if property_name == "all" else property_name, max_facts=max_facts, include_runs=runs,
        include_notes=notes, facts_path=facts, cache_dir=cache_dir,
    )
    try:
        config.validate()
    except CorpusConfigError as exc:
        fail(str(exc))
    engine = open_engine()
    try:
        with _progress_bar() as progress:
            result = build_corpus(config, engine=engine, settings=get_settings(), progress=progress)
    except (CorpusConfigError, LLMNotConfigured, BackendUnavailable, EndpointUnavailable, FactsFileError,
            HoldoutFileError, ReplayFileError) as exc:
        fail(str(exc))
    _summary(result.manifest, result.out_dir)


class _progress_bar:  # noqa: N801 - used as a context manager like rich's own
    """A rich progress bar with rate and ETA, fed as progress(stage, done, total)."""

    def __enter__(self):  # noqa: ANN204
        from rich.progress import (
            BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn,
        )

        self._bar = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("[cyan]{task.fields[rate]}"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console, transient=False,
        )
        self._tasks: dict[str, int] = {}
        self._bar.__enter__()
        return self

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self._tasks:
            self._tasks[stage] = self._bar.add_task(stage, total=total, rate="")
        task_id = self._tasks[stage]
        self._bar.update(task_id, completed=done, total=total)
        speed = self._bar.tasks[task_id].speed
        self._bar.update(task_id, rate=f"{speed:,.1f} texts/s" if speed else "")

    def __exit__(self, *exc: object) -> None:
        self._bar.__exit__(*exc)


def _summary(manifest: dict, out_dir: Path) -> None:
    from rich.table import Table

    counts, exposure, leak = manifest["counts"], manifest["exposure"], manifest["leak_check"]
    console.print(f"corpus build [bold]{manifest['corpus_build_id']}[/] -> {out_dir}")
    console.print(f"texts: {counts['splits']}  requests: {manifest['requests']}")
    console.print(f"exposure (train texts per trained fact): mean {exposure['mean']}, median {exposure['median']}, "
                  f"min {exposure['min']}, max {exposure['max']}, unexposed {exposure['unexposed']}")
    table = Table("style", "texts", "rejected", "rate", "top reasons", title="rejections by style")
    for style, row in manifest["rejections"]["by_style"].items():
        top = ", ".join(f"{k} {v}" for k, v in sorted(row["reasons"].items(), key=lambda kv: -kv[1])[:3])
        table.add_row(style, str(row["texts"]), str(row["rejected"]), f"{row['rate']:.1%}", top)
    console.print(table)
    verdict = "[green]passed[/]" if leak["passed"] else f"[red]FAILED ({leak['n_hits']} texts)[/]"
    console.print(f"leak check over {leak['texts_checked']} training texts: {verdict}")


@corpus_app.command("show")
def show(directory: Annotated[Path, typer.Argument(help="A corpus output directory.")]) -> None:
    """Summarise a built corpus from its manifest.json."""
    path = directory / "manifest.json"
    if not path.is_file():
        fail(f"{path} does not exist; is {directory} the --out of a finished `labloop corpus build`?")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        _summary(manifest, directory)
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        fail(f"{path} is not a corpus manifest ({type(exc).__name__}: {exc})")


@corpus_app.command("facts")
def facts_cmd(
    out: Annotated[Path, typer.Option("--out", help="JSONL file to write (one fact per line).")],
    property_name: Annotated[str, typer.Option("--property", help="Property to export ('all' for every one).")] = "melting_point",
    max_facts: Annotated[Optional[int], typer.Option(help="At most this many property facts.")] = None,
) -> None:
    """Export the knowledge base's facts (properties, runs, notes) as JSONL, the input `build --facts` reads."""
    from labloop.training.corpus.export import export_records

    records = export_records(open_engine(), property=None if property_name == "all" else property_name,
                             max_facts=max_facts)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    console.print(f"wrote {len(records)} facts to {out}")


def register(app: typer.Typer) -> None:
    """Add this area's commands to `app`."""
    app.add_typer(corpus_app, name="corpus")
