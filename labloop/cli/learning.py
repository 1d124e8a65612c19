"""Commands of the learning area: train, evaluate, baseline, models (registry), serve, retrain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from labloop.cli.common import console, fail, open_engine, setup_logging

baseline_app = typer.Typer(help="The random-forest baseline (RDKit descriptors + Morgan fingerprint).",
                           no_args_is_help=True)
models_app = typer.Typer(help="The model registry: list versions, promote one, roll back.", no_args_is_help=True)

TOY_NOTE = "[bold yellow]TOY MODEL[/]: tiny random-initialised Llama trained on CPU; its numbers are not predictions."


def _progress():
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=console, transient=True)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _emit(obj: dict[str, Any], as_json: bool, title: str) -> None:
    if as_json:
        typer.echo(json.dumps(obj, indent=2, default=str))
        return
    from labloop.training.evaluate import METRIC_KEYS

    console.print(f"[bold]{title}[/]")
    for key in METRIC_KEYS:
        console.print(f"  {key:15} {obj.get(key)}")
    for split, values in (obj.get("splits") or {}).items():
        console.print(f"  [bold]{split}[/]: " + ", ".join(f"{k}={values.get(k)}" for k in ("n", "answer_rate", "mae_k")))


def train(
    corpus: Annotated[Path, typer.Option(help="Corpus directory from `labloop corpus build`.")],
    out: Annotated[Path, typer.Option(help="Output directory (checkpoints, metrics, config, model/).")],
    base_model: Annotated[Optional[Path], typer.Option(help="Local Hugging Face causal-LM directory (never a hub id).")] = None,
    tiny: Annotated[bool, typer.Option(help="Build a tiny toy Llama + tokenizer from the corpus (CPU, minutes).")] = False,
    lora: Annotated[bool, typer.Option(help="Train a LoRA adapter instead of all parameters.")] = False,
    lora_r: Annotated[int, typer.Option(help="LoRA rank.")] = 64,
    epochs: Annotated[float, typer.Option(help="Passes over the corpus.")] = 1.0,
    max_steps: Annotated[Optional[int], typer.Option(help="Stop after this many optimizer steps (overrides --epochs).")] = None,
    lr: Annotated[float, typer.Option(help="Peak learning rate (cosine schedule, linear warm-up).")] = 2e-5,
    block_size: Annotated[int, typer.Option(help="Tokens per packed block.")] = 2048,
    batch_size: Annotated[int, typer.Option(help="Blocks per device per micro-step.")] = 1,
    grad_accum: Annotated[int, typer.Option(help="Micro-steps per optimizer step.")] = 8,
    eval_every: Annotated[int, typer.Option(help="Steps between validation losses (0: end only).")] = 100,
    save_every: Annotated[int, typer.Option(help="Steps between resumable checkpoints (0: none).")] = 200,
    task_eval_rows: Annotated[int, typer.Option(help="Also measure #Prediction MAE on this many unseen compounds at each validation.")] = 0,
    precision: Annotated[str, typer.Option(help="auto (bf16 on GPU), bf16 or fp32.")] = "auto",
    gradient_checkpointing: Annotated[str, typer.Option(help="auto (on with a GPU), on or off.")] = "auto",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1234,
    resume: Annotated[bool, typer.Option(help="Continue from the last checkpoint in --out.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Continued pretraining of a local causal LM on a corpus; registers the result as a model version."""
    setup_logging(verbose)
    from labloop.training.errors import TrainingError
    from labloop.training.pretrain import TrainConfig
    from labloop.training.train_job import train_and_register

    config = TrainConfig(
        corpus_dir=corpus, out_dir=out, base_model=base_model, tiny=tiny, lora=lora, lora_r=lora_r, lora_alpha=2 * lora_r,
        epochs=epochs, max_steps=max_steps, lr=lr, block_size=block_size, batch_size=batch_size, grad_accum=grad_accum,
        eval_every=eval_every, save_every=save_every, task_eval_rows=task_eval_rows, precision=precision,
        gradient_checkpointing=gradient_checkpointing, seed=seed, resume=resume,
    )
    try:
        config.validate()
    except ValueError as exc:
        fail(str(exc))
    engine = open_engine()
    with _progress() as progress:
        task = progress.add_task("training", total=None)

        def on_step(step: int, total: int, loss: float) -> None:
            progress.update(task, completed=step, total=total, description=f"training (loss {loss:.3f})")

        try:
            result, version = train_and_register(engine, config, on_step=on_step)
        except TrainingError as exc:
            fail(str(exc))
    summary = {"version": version.name, "model_dir": str(result.model_dir), "kind": result.kind, "toy": result.toy,
               "metrics": result.metrics}
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    if result.toy:
        console.print(TOY_NOTE)
    m = result.metrics
    console.print(f"registered [bold]{version.name}[/] ({result.kind}) at {result.model_dir}\n"
                  f"  steps {m['steps']}, loss {m['train_loss_first']:.3f} -> {m['train_loss_last']:.3f}, "
                  f"validation {_fmt(m['val_loss_first'])} -> {_fmt(m['val_loss_last'])}, {m['tokens_per_s']} tokens/s\n"
                  f"  next: labloop evaluate --model-dir {result.model_dir} --corpus {corpus}")


def evaluate(
    data: Annotated[Optional[Path], typer.Option(help="CSV: name,smiles,value,unit, or a Bradley-format CSV (default: the corpus's eval files).")] = None,
    corpus: Annotated[Optional[Path], typer.Option(help="Corpus directory: report trained vs unseen compounds separately.")] = None,
    endpoint: Annotated[Optional[str], typer.Option(help="OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1.")] = None,
    model: Annotated[Optional[str], typer.Option(help="Model name at --endpoint.")] = None,
    model_dir: Annotated[Optional[Path], typer.Option(help="Run a local model directory in-process instead.")] = None,
    api: Annotated[str, typer.Option(help="chat or completions (endpoint only).")] = "chat",
    concurrency: Annotated[int, typer.Option(help="Requests in flight at once (endpoint only).")] = 8,
    max_tokens: Annotated[int, typer.Option(help="Longest answer in tokens.")] = 256,
    property_name: Annotated[str, typer.Option(help="Property named in the prompt.")] = "melting point",
    unit: Annotated[str, typer.Option(help="Unit the answer is asked in (degC, K, degF).")] = "degC",
    limit: Annotated[Optional[int], typer.Option(help="Only the first N compounds.")] = None,
    predictions: Annotated[Optional[Path], typer.Option(help="Write every answer and parsed value to this CSV.")] = None,
    plot: Annotated[Optional[Path], typer.Option(help="Write a parity plot PNG here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object with the metric keys.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Ask a model the source's #Reason/#Prediction prompt for every compound and score the answers."""
    setup_logging(verbose)
    from labloop.config import get_settings
    from labloop.training.corpus_input import open_corpus
    from labloop.training.errors import TrainingError
    from labloop.training.evaluate import EndpointBackend, EvalPrompt, InProcessBackend, corpus_splits, evaluate_rows
    from labloop.training.evaluate.data import read_eval_data
    from labloop.training.evaluate.plot import parity_plot
    from labloop.units import normalize_unit

    if (model_dir is None) == (endpoint is None):
        fail("give either --endpoint URL --model NAME, or --model-dir DIR")
    if endpoint is not None and not model:
        fail("--endpoint needs --model NAME (the served model name)")
    try:
        prompt = EvalPrompt(property_name=property_name, unit=normalize_unit(unit))
        corpus_in = open_corpus(corpus) if corpus else None
        if data is None and corpus_in is None:
            fail("give --data CSV, or --corpus DIR to use its eval/trained.csv and eval/unseen.csv")
        splits = corpus_splits(corpus_in.trained_csv, corpus_in.unseen_csv) if corpus_in else None
        if data is not None:
            rows = read_eval_data(data).rows
        else:
            rows = [r for p in (corpus_in.trained_csv, corpus_in.unseen_csv) if p for r in read_eval_data(p).rows]
        rows = rows[:limit] if limit else rows
        if endpoint is not None:
            backend = EndpointBackend(get_settings(), base_url=endpoint, model=model, api=api,
                                      concurrency=concurrency, max_tokens=max_tokens)
        else:
            backend = InProcessBackend(model_dir, max_new_tokens=min(max_tokens, 128))
        with _progress() as progress:
            task = progress.add_task("evaluating", total=len(rows))
            report = evaluate_rows(rows, backend, prompt=prompt, splits=splits,
                                   progress=lambda n: progress.advance(task, n))
    except (TrainingError, ValueError) as exc:
        fail(str(exc))
    metrics = report.metrics
    if model_dir is not None:
        from labloop.training.registry import record_evaluation, version_for_path
        from labloop.training.tiny import is_toy

        metrics["toy"] = is_toy(model_dir)
        version = version_for_path(open_engine(), model_dir)
        if version is not None:
            metrics["model_version"] = version.name
            # The gate trusts a stored evaluation, so only the full evaluation on the version's own corpus is stored.
            if data is not None or limit or corpus_in is None:
                why = "only a --corpus evaluation without --data or --limit is stored"
            elif corpus_in.manifest_hash != version.data_manifest_hash:
                why = f"{corpus} is not the corpus {version.name} was trained on"
            else:
                why = ""
                record_evaluation(open_engine(), version.id, metrics)
            metrics["recorded"] = not why
            if why:
                typer.echo(f"not stored on {version.name} (the promotion gate reads stored results): {why}", err=True)
    if predictions:
        report.write_predictions(predictions, prompt.unit)
    if plot:
        parity_plot([r.row.value_c for r in report.results], [r.predicted_c for r in report.results],
                    [r.split for r in report.results], plot, title=f"{backend.label}: {property_name}")
    if metrics.get("toy") and not as_json:
        console.print(TOY_NOTE)
    _emit(metrics, as_json, f"evaluation of {backend.label}")


@baseline_app.command("train")
def baseline_train(
    data: Annotated[Optional[Path], typer.Option(help="Bradley-format or name,smiles,value,unit CSV (default: the knowledge base's consensus values).")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Output directory (default: DATA_DIR/models/baseline, used by the chat).")] = None,
    split: Annotated[str, typer.Option(help="random or scaffold (Bemis-Murcko) held-out compounds.")] = "random",
    test_fraction: Annotated[float, typer.Option(help="Share of compounds held out (0 to train on all).")] = 0.2,
    seed: Annotated[int, typer.Option(help="Split and forest seed.")] = 0,
    trees: Annotated[int, typer.Option(help="Trees in the forest.")] = 200,
    n_jobs: Annotated[int, typer.Option(help="CPU processes for features and trees.")] = 2,
    as_json: Annotated[bool, typer.Option("--json", help="Print the card (with held-out metrics) as JSON.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Train the random forest on consensus values; reports MAE etc. on its held-out compounds."""
    setup_logging(verbose)
    from labloop.config import get_settings
    from labloop.training.baseline import train_baseline
    from labloop.training.baseline.data import knowledge_base_rows
    from labloop.training.errors import TrainingError
    from labloop.training.evaluate.data import read_eval_data
    from labloop.training.predict import baseline_dir

    out = out or baseline_dir(get_settings())
    try:
        rows = read_eval_data(data).rows if data else knowledge_base_rows(open_engine())
        with console.status(f"featurising {len(rows)} compounds and fitting {trees} trees"):
            card = train_baseline(rows, out, split=split, test_fraction=test_fraction, seed=seed, n_estimators=trees,
                                  n_jobs=n_jobs, data_source=str(data or "knowledge base"))
    except (TrainingError, ValueError) as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(card, indent=2))
        return
    console.print(f"baseline saved to {out} ({card['n_train']} training compounds, {card['n_test']} held out)")
    if card["test_metrics"]:
        _emit(card["test_metrics"], False, f"held-out compounds ({split} split)")
        console.print(f"  evaluate again: labloop baseline evaluate --model {out} --data {out}/split/test.csv")


@baseline_app.command("evaluate")
def baseline_evaluate(
    data: Annotated[Path, typer.Option(help="CSV: name,smiles,value,unit, or a Bradley-format CSV.")],
    model: Annotated[Optional[Path], typer.Option(help="Baseline directory (default: DATA_DIR/models/baseline).")] = None,
    plot: Annotated[Optional[Path], typer.Option(help="Write a parity plot PNG here.")] = None,
    n_jobs: Annotated[int, typer.Option(help="CPU processes for features.")] = 2,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object with the metric keys.")] = False,
) -> None:
    """Score the baseline on a CSV; compounds it was trained on are reported apart from unseen ones."""
    from labloop.config import get_settings
    from labloop.training.baseline import load_baseline
    from labloop.training.errors import TrainingError
    from labloop.training.evaluate.data import read_eval_data
    from labloop.training.evaluate.plot import parity_plot
    from labloop.training.predict import baseline_dir

    try:
        baseline = load_baseline(model or baseline_dir(get_settings()))
        rows = read_eval_data(data).rows
        metrics = baseline.evaluate(rows, n_jobs=n_jobs)
    except (TrainingError, ValueError) as exc:
        fail(str(exc))
    if plot:
        predicted = baseline.predict([r.smiles for r in rows], n_jobs=n_jobs)
        splits = ["trained" if (r.inchikey or r.smiles) in baseline.trained_keys else "unseen" for r in rows]
        parity_plot([r.value_c for r in rows], predicted, splits, plot, title="random-forest baseline")
    _emit(metrics, as_json, "baseline evaluation")


@models_app.command("list")
def models_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Every model version with its kind, toy flag, unseen MAE, answer rate and promotion."""
    from labloop.training.registry import list_versions, unseen_mae

    versions = list_versions(open_engine())
    if as_json:
        typer.echo(json.dumps([v.model_dump(mode="json") for v in versions], indent=2))
        return
    if not versions:
        console.print("no model versions yet: run `labloop train` or `labloop retrain`")
        return
    from rich.table import Table

    table = Table("id", "name", "kind", "toy", "unseen MAE (K)", "answer rate", "promoted", "path")
    for v in versions:
        evaluation = v.metrics.get("eval") or {}
        table.add_row(str(v.id), v.name, v.kind, "TOY" if v.toy else "", str(unseen_mae(v.metrics) or "-"),
                      str(evaluation.get("answer_rate", "-")), "*" if v.promoted else "", v.path)
    console.print(table)


@models_app.command("promote")
def models_promote(
    version: Annotated[str, typer.Argument(help="Version id or name (see `labloop models list`).")],
    force: Annotated[bool, typer.Option(help="Promote even if the gate says no (never an incomplete model).")] = False,
    tolerance: Annotated[float, typer.Option(help="Allowed worsening of unseen MAE in K.")] = 5.0,
) -> None:
    """Promote a version (gated: answer rate >= 95%, unseen MAE not worse than the current by > tolerance)."""
    from labloop.config import get_settings
    from labloop.training.errors import TrainingError
    from labloop.training.registry import promote

    try:
        promoted, decision = promote(open_engine(), version, force=force, tolerance_k=tolerance,
                                     serving_link=get_settings().promoted_link)
    except TrainingError as exc:
        fail(str(exc))
    console.print(f"promoted [bold]{promoted.name}[/]: {'; '.join(decision.reasons)}"
                  + (" [yellow](forced past the gate)[/]" if not decision.promote else ""))


@models_app.command("rollback")
def models_rollback() -> None:
    """Demote the promoted version and re-promote the one promoted before it."""
    from labloop.config import get_settings
    from labloop.training.errors import TrainingError
    from labloop.training.registry import rollback

    try:
        old, restored = rollback(open_engine(), serving_link=get_settings().promoted_link)
    except TrainingError as exc:
        fail(str(exc))
    console.print(f"rolled back: {old.name} demoted, [bold]{restored.name}[/] promoted again")


def serve(
    version: Annotated[Optional[str], typer.Option(help="Version id or name (default: the promoted one).")] = None,
    dry_run: Annotated[bool, typer.Option(help="Print the exact vllm command and exit.")] = False,
    host: Annotated[str, typer.Option(help="Interface vLLM binds to.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port vLLM listens on.")] = 8000,
    max_model_len: Annotated[Optional[int], typer.Option(help="Context length vLLM allocates for.")] = None,
    tensor_parallel: Annotated[int, typer.Option(help="GPUs to shard the model over.")] = 1,
    load_into: Annotated[Optional[str], typer.Option(help="Load a LoRA version into the vLLM server at this URL instead.")] = None,
) -> None:
    """Serve a model version with vLLM (served as its own name and as `labloop-promoted`), or load a LoRA adapter
    into a running server. Point the chat and observer at it: LABLOOP_LLM_BASE_URL=http://HOST:PORT/v1
    LABLOOP_LLM_MODEL=labloop-promoted (or the version's name)."""
    from labloop.training.errors import TrainingError
    from labloop.training.registry import find_version, promoted_version
    from labloop.training.serve import exec_vllm, load_lora_adapter, vllm_command

    engine = open_engine()
    try:
        chosen = find_version(engine, version) if version else promoted_version(engine)
        if chosen is None:
            fail("no model is promoted; promote one (`labloop models promote V`) or pass --version")
        if load_into:
            result = load_lora_adapter(load_into, chosen)
            console.print(f"loaded {chosen.name} into {result['url']}; use LABLOOP_LLM_MODEL={chosen.name}")
            return
        command = vllm_command(chosen, host=host, port=port, max_model_len=max_model_len,
                               tensor_parallel_size=tensor_parallel)
        if dry_run:
            import shlex

            typer.echo(shlex.join(command))
            return
        if chosen.toy:
            console.print(TOY_NOTE)
        exec_vllm(command)
    except TrainingError as exc:
        fail(str(exc))


def retrain(
    base_model: Annotated[Optional[Path], typer.Option(
        help="Local Hugging Face causal-LM directory (default: the base_model setting, LABLOOP_BASE_MODEL).")] = None,
    tiny: Annotated[bool, typer.Option(help="Train the tiny toy model instead (CPU).")] = False,
    every: Annotated[Optional[str], typer.Option(help="Keep running: one pass per interval (30m, 6h, 1d).")] = None,
    at: Annotated[Optional[str], typer.Option(help="With --every: align passes to this UTC time of day (02:00).")] = None,
    lora: Annotated[bool, typer.Option(help="Train a LoRA adapter.")] = False,
    epochs: Annotated[float, typer.Option(help="Passes over the corpus.")] = 1.0,
    max_steps: Annotated[Optional[int], typer.Option(help="Stop after this many optimizer steps.")] = None,
    lr: Annotated[float, typer.Option(help="Peak learning rate.")] = 2e-5,
    block_size: Annotated[int, typer.Option(help="Tokens per packed block.")] = 2048,
    batch_size: Annotated[int, typer.Option(help="Blocks per micro-step.")] = 1,
    grad_accum: Annotated[int, typer.Option(help="Micro-steps per optimizer step.")] = 8,
    tolerance: Annotated[float, typer.Option(help="Allowed worsening of unseen MAE in K before a new model is kept out.")] = 5.0,
    texts_per_fact: Annotated[Optional[int], typer.Option(help="Corpus: styled texts per fact.")] = None,
    max_facts: Annotated[Optional[int], typer.Option(help="Corpus: at most this many property facts.")] = None,
    force: Annotated[bool, typer.Option(help="Build and train even if nothing is new.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """The scheduled loop, locked and idempotent: new records -> corpus -> train -> evaluate -> promote or keep."""
    setup_logging(verbose)
    from labloop.agents.llm_client import LLMNotConfigured
    from labloop.config import get_settings
    from labloop.training.corpus.backends import BackendUnavailable, EndpointUnavailable
    from labloop.training.errors import TrainingError
    from labloop.training.retrain import RetrainConfig
    from labloop.training.retrain import retrain as run_retrain

    base_model = base_model or get_settings().base_model
    if (base_model is None) == (not tiny):
        fail("give --base-model DIR (a local causal LM; or set LABLOOP_BASE_MODEL) or --tiny (toy model on CPU)")
    options = {k: v for k, v in {"texts_per_fact": texts_per_fact, "max_facts": max_facts}.items() if v is not None}
    config = RetrainConfig(base_model=base_model, tiny=tiny, lora=lora, epochs=epochs, max_steps=max_steps, lr=lr,
                           block_size=block_size, batch_size=batch_size, grad_accum=grad_accum, tolerance_k=tolerance,
                           force=force, corpus_options=options)
    expected = (TrainingError, LLMNotConfigured, BackendUnavailable, EndpointUnavailable, ValueError)
    if every is not None:
        _retrain_forever(config, every, at, expected)
        return
    try:
        report = run_retrain(open_engine(), get_settings(), config, on_stage=lambda s: console.print(f"[dim]{s}[/]"))
    except expected as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
        return
    console.print(f"[bold]{report['outcome']}[/]\n  report: {report['report_path']}")


def _retrain_forever(config, every: str, at: str | None, expected: tuple) -> None:
    """The compose service's mode: a pass at every scheduled slot; a failed pass is reported, the next one runs."""
    import time as clock

    from labloop.config import get_settings
    from labloop.knowledge_base.types import utcnow
    from labloop.training.retrain import retrain as run_retrain
    from labloop.training.schedule import next_run, parse_at, parse_interval

    try:
        interval, align = parse_interval(every), parse_at(at) if at else None
    except ValueError as exc:
        fail(str(exc))
    while True:
        due = next_run(utcnow(), interval, align)
        console.print(f"next retrain pass at {due.isoformat(timespec='minutes')}")
        clock.sleep(max(0.0, (due - utcnow()).total_seconds()))
        try:
            report = run_retrain(open_engine(), get_settings(), config)
            console.print(f"[bold]{report['outcome']}[/] ({report['report_path']})")
        except expected as exc:
            console.print(f"[bold red]retrain pass failed:[/] {exc}")


def register(app: typer.Typer) -> None:
    """Add this area's commands to `app`."""
    app.command("train")(train)
    app.command("evaluate")(evaluate)
    app.add_typer(baseline_app, name="baseline")
    app.add_typer(models_app, name="models")
    app.command("serve")(serve)
    app.command("retrain")(retrain)
