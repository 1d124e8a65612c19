"""Commands of the observer area: CV turbidity of a photo, observing runs, lab notes, reflections, the demo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from labloop.cli.common import console, fail, invoked_as, open_engine, setup_logging

vision_app = typer.Typer(help="Image analysis of vial photos (no language model involved).", no_args_is_help=True)

RoiOption = Annotated[Optional[str], typer.Option("--roi", help="Vial region in pixels as x,y,w,h; "
                                                  "default: the camera's recorded region, else the frame centre.")]
OfflineOption = Annotated[bool, typer.Option("--offline", help="Do not use a language model even if one is "
                                             "configured: template text from the measurements.")]


def turbidity(
    image: Annotated[Path, typer.Argument(help="Photo of the vial (JPEG, PNG, ...).")],
    roi: RoiOption = None,
    reference: Annotated[Optional[Path], typer.Option(help="Photo of the same vial when clear: haze is measured "
                                                      "relative to it (same size). Without it: absolute mode.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print {\"haze\": ..., \"score\": ...} only.")] = False,
) -> None:
    """Haze index (0-1) and turbidity score (0-5) of a vial photo, by image analysis."""
    from labloop.agents.vision import Roi, RoiError, measure_frame

    try:
        region = Roi.parse(roi) if roi else None
    except RoiError as exc:
        fail(str(exc))
    ref = None
    if reference is not None:
        ref_result = measure_frame(_read(reference), roi=region)
        if not ref_result.quality.ok:
            fail(f"reference photo {reference}: {ref_result.quality}")
        ref = ref_result.features
    result = measure_frame(_read(image), roi=region, reference=ref)
    if not result.quality.ok:
        fail(f"{image}: cannot measure turbidity ({result.quality})")
    if as_json:
        typer.echo(json.dumps({"haze": result.haze, "score": result.score}))
        return
    console.print(f"haze {result.haze:.3f} ({result.mode} mode), turbidity score {result.score:.2f} of 5 "
                  "(computed by image analysis, default calibration)")


def observe(
    run: Annotated[Optional[int], typer.Option("--run", help="Observe this recorded run (from the database).")] = None,
    resume: Annotated[bool, typer.Option(help="Continue an observer that stopped or was killed, from its "
                                         "checkpoint, without repeating observations.")] = False,
    backfill: Annotated[Optional[int], typer.Option("--backfill", metavar="RUN", help="Ask the vision model again "
                                                    "about this run's frames whose description failed.")] = None,
    follow: Annotated[bool, typer.Option(help="Keep waiting for new frames while the run is still recording.")] = True,
    robot: Annotated[Optional[str], typer.Option(help="Record a new run and observe it live: robot serial URL "
                                                 "(e.g. socket://127.0.0.1:5000, /dev/ttyUSB0).")] = None,
    camera: Annotated[Optional[str], typer.Option(help="Camera for a new run: device index, video file, "
                                                  "'folder:DIR' or 'sim:seed=1,onset=2h,offset=3mm'.")] = None,
    interval: Annotated[str, typer.Option(help="Time between frames of a new run, e.g. 60s, 5m.")] = "60s",
    duration: Annotated[str, typer.Option(help="Length of a new run, e.g. 12h, 90m (Ctrl-C ends it early).")] = "12h",
    clock: Annotated[str, typer.Option(help="New run: 'real', or 'sim' (simulated time: 12 h take seconds).")] = "real",
    gcode: Annotated[Optional[Path], typer.Option(help="New run: G-code program to run on the robot at the start.")] = None,
    name: Annotated[str, typer.Option(help="Name of a new run.")] = "",
    operator: Annotated[str, typer.Option(help="robot or human, for a new run.")] = "robot",
    experiment: Annotated[Optional[int], typer.Option(help="Experiment id of a new run.")] = None,
    roi: RoiOption = None,
    describe_every: Annotated[int, typer.Option(help="Ask the vision model about every N-th frame ...")] = 12,
    haze_trigger: Annotated[float, typer.Option(help="... or when the haze index moved by this much.")] = 0.08,
    offline: OfflineOption = False,
    verbose: Annotated[bool, typer.Option("-v", help="Debug logging.")] = False,
) -> None:
    """Watch a run: CV turbidity of every frame, vision-model notes, events (onset, sudden change, CV/LLM
    disagreement, camera gaps) and alerts. Checkpointed: `--resume` continues after a crash."""
    setup_logging(verbose)
    from labloop.agents.observer.checkpoints import open_checkpointer
    from labloop.agents.observer.runner import ObserveOptions, ObserverError, observe_run
    from labloop.agents.vision import Roi, RoiError
    from labloop.config import get_settings

    settings = get_settings()
    chosen = [x is not None for x in (run, backfill, robot or camera)]
    if sum(chosen) != 1:
        fail("choose one: --run ID (a recorded run), --backfill RUN, or --robot/--camera (record and observe)")
    if describe_every < 1 or not 0 < haze_trigger <= 1:
        fail("--describe-every must be at least 1 and --haze-trigger between 0 and 1")
    try:
        region = Roi.parse(roi) if roi else None
    except RoiError as exc:
        fail(str(exc))
    engine = open_engine()
    if backfill is not None:
        _backfill(engine, settings, backfill, region)
        return
    options = ObserveOptions(roi=region, describe_every=describe_every, haze_trigger=haze_trigger,
                             use_llm=not offline, follow=follow,
                             webhook_url=settings.alert_webhook_url.get_secret_value() if settings.alert_webhook_url else None)
    if options.use_llm and not settings.llm_configured:
        console.print("[yellow]No language model configured: CV-only observations (set LABLOOP_LLM_BASE_URL and "
                      "LABLOOP_LLM_MODEL to add vision-model notes).[/]")
    from labloop.agents.llm_client import LLMNotConfigured

    try:
        with open_checkpointer(settings.effective_database_url) as checkpointer, _progress() as progress:
            task = progress.add_task("observing", total=None)
            tick = lambda frame: progress.update(task, advance=1, description=_frame_text(frame))  # noqa: E731
            if run is not None:
                summary = observe_run(engine, settings, run, checkpointer=checkpointer, resume=resume,
                                      options=options, on_frame=tick)
            else:
                summary = _record_and_observe(engine, settings, checkpointer, options, tick, robot=robot,
                                              camera=camera, interval=interval, duration=duration, name=name,
                                              operator=operator, experiment=experiment, clock=clock, gcode=gcode)
    except (ObserverError, LLMNotConfigured) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted; `labloop observe --run ID --resume` continues where it stopped", code=130)
    onset = summary.onset_elapsed_s
    console.print(f"run {summary.run_id}: {summary.observations} observations ({summary.frames} frames this time"
                  f"{', resumed' if summary.resumed else ''}), {summary.llm_calls} vision-model calls "
                  f"({summary.llm_failed} failed), {summary.unusable} unusable frames; events: "
                  f"{', '.join(summary.events) or 'none'}; onset: "
                  f"{f'{onset / 3600:.2f} h after start' if onset is not None else 'not detected'}")
    console.print(f"vial region {summary.roi}; calibration: {summary.calibration}")


def _record_and_observe(engine, settings, checkpointer, options, tick, **acq):  # noqa: ANN001, ANN003, ANN202
    from labloop.agents.observer.live import observe_acquisition
    from labloop.cli.devices import acquisition_config

    if not acq["camera"]:
        fail("recording a run needs --camera (and --robot for a robot run), or --run ID to observe a recorded one")
    config = acquisition_config(**acq)
    return observe_acquisition(engine, settings, config, checkpointer=checkpointer, options=options, on_frame=tick)


def _backfill(engine, settings, run_id: int, region) -> None:  # noqa: ANN001
    from labloop.agents.describe import VisionDescriber
    from labloop.agents.llm_client import LLMNotConfigured
    from labloop.agents.observer.backfill import backfill_run
    from labloop.knowledge_base.frame_store import FrameStore

    try:
        describer = VisionDescriber(settings)
    except LLMNotConfigured as exc:
        fail(str(exc))
    with _progress() as progress:
        task = progress.add_task("asking the vision model again", total=None)
        try:
            summary = backfill_run(engine, describer, FrameStore(settings.frames_dir), run_id, roi=region,
                                   on_item=lambda: progress.advance(task))
        except LookupError as exc:
            fail(str(exc))
    console.print(f"run {run_id}: {summary.attempted} failed descriptions retried, {summary.filled} filled, "
                  f"{summary.still_failed} still failed")


def note(
    run: Annotated[int, typer.Argument(help="Run id.")],
    offline: OfflineOption = False,
    author: Annotated[str, typer.Option(help="Recorded as the author of this revision.")] = "labloop",
) -> None:
    """Write the run's lab notebook entry (Markdown + turbidity plot); every number is checked against the records."""
    from labloop.agents.llm_client import LLMNotConfigured
    from labloop.agents.notes.generate import WriterFailed
    from labloop.agents.notes.numbers import NoteRejected
    from labloop.agents.notes.writer import write_lab_note
    from labloop.config import get_settings

    engine = open_engine()
    try:
        written = write_lab_note(engine, get_settings(), run, use_llm=False if offline else None, author=author)
    except (LookupError, NoteRejected, WriterFailed, LLMNotConfigured) as exc:
        fail(f"{exc}" + ("; `--offline` writes the note from the measurements by template"
                         if not isinstance(exc, LookupError) else ""))
    by = f"language model {written.model}" if written.source == "llm" else "template (no language model)"
    console.print(f"lab note {written.note_id} revision {written.revision} written by {by}:\n  {written.markdown_path}"
                  + "".join(f"\n  {p}" for p in written.figure_paths))


def reflect(
    run_a: Annotated[int, typer.Argument(help="First run (e.g. the robot's).")],
    run_b: Annotated[int, typer.Argument(help="Second run (e.g. the human's).")],
    offline: OfflineOption = False,
) -> None:
    """Compare two runs (frames at matching times, turbidity curves, logs, results) and write what differed."""
    from labloop.agents.llm_client import LLMNotConfigured
    from labloop.agents.notes.generate import WriterFailed
    from labloop.agents.notes.numbers import NoteRejected
    from labloop.agents.notes.reflection import write_reflection
    from labloop.config import get_settings

    engine = open_engine()
    try:
        written = write_reflection(engine, get_settings(), run_a, run_b, use_llm=False if offline else None)
    except (LookupError, ValueError, WriterFailed, LLMNotConfigured) as exc:
        fail(str(exc))
    console.print(f"reflection {written.note_id} ({written.source}):\n  {written.markdown_path}"
                  + "".join(f"\n  {p}" for p in written.figure_paths))


def demo(
    offline: OfflineOption = False,
    verbose: Annotated[bool, typer.Option("-v", help="Debug logging.")] = False,
) -> None:
    """Everything in about a minute, with no robot, GPU or API key: simulated robot and camera, a robot run with
    the vial off-centre and a human run centred, observed; lab notes, a reflection and plots."""
    if verbose:
        setup_logging(verbose)
    from labloop.agents.demo import DemoError, run_demo
    from labloop.config import get_settings

    settings = get_settings()
    with _progress() as progress:
        task = progress.add_task("demo", total=None)
        try:
            result = run_demo(settings, use_llm=not offline,
                              progress=lambda text: progress.update(task, description=text, advance=1))
        except DemoError as exc:
            fail(str(exc))
    console.print(result.report(command=invoked_as()), soft_wrap=True)


def _frame_text(frame: dict) -> str:
    score = frame.get("score")
    return f"frame {frame['seq']}: " + (f"CV score {score:.2f}" if score is not None else frame.get("quality", ""))


def _progress():  # noqa: ANN202
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed} done"),
                    TimeElapsedColumn(), console=console, transient=True)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")


def register(app: typer.Typer) -> None:
    """Add this area's commands to `app`."""
    vision_app.command("turbidity")(turbidity)
    app.add_typer(vision_app, name="vision")
    app.command("observe")(observe)
    app.command("note")(note)
    app.command("reflect")(reflect)
    app.command("demo")(demo)
