"""Commands of the devices area: the simulated robot, sending G-code to a robot, and acquisition runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labloop.cli.common import console, fail, open_engine, setup_logging

robot_app = typer.Typer(help="The dispensing robot: a simulator to develop against, and sending G-code programs.",
                        no_args_is_help=True)


@robot_app.command("simulate")
def simulate(
    listen: Annotated[str, typer.Option(help="Where to serve: socket://127.0.0.1:PORT (PORT 0 = any free port) "
                                              "or 'pty' (prints the /dev/pts/N path).")] = "socket://127.0.0.1:0",
    faults: Annotated[str, typer.Option(help="Fault knobs, NAME=probability or NAME@N (N-th line): corrupt, drop_ok, "
                                             "busy, disconnect, reset, garbage, echo, mute; settings busy_s=, "
                                             "flood=, keepalive_s=. E.g. 'corrupt=0.05,disconnect@40'.")] = "",
    speed: Annotated[float, typer.Option(help="How many times faster than real time moves complete.")] = 1.0,
    seed: Annotated[int, typer.Option(help="Seed of the random faults (same seed, same faults).")] = 0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every connection.")] = False,
) -> None:
    """Serve a virtual Marlin syringe dispenser (220x220x250 mm, 5 mL syringe) until Ctrl-C."""
    from labloop.devices.simulator import FaultSpecError, RobotSimulator

    setup_logging(verbose)
    try:
        sim = RobotSimulator(listen, faults=faults, speed=speed, seed=seed)
    except (FaultSpecError, ValueError, OSError) as exc:
        fail(str(exc))
    sim.start()
    console.print(f"simulated robot listening on [bold]{sim.url}[/] (speed x{speed:g}, faults: "
                  f"{sim.faults.describe()}); Ctrl-C to stop")
    try:
        sim.serve_forever()
    except KeyboardInterrupt:
        console.print(f"stopping; {sim.lines_received} lines received over {sim.connections} connection(s)")
    finally:
        sim.stop()


@robot_app.command("run-gcode")
def run_gcode(
    file: Annotated[Path, typer.Argument(help="G-code program; the E axis is syringe volume in mL.")],
    port: Annotated[str, typer.Option(help="Robot URL: /dev/ttyUSB0, socket://HOST:PORT, rfc2217://..., pty path.")],
    baudrate: Annotated[int, typer.Option(help="Serial speed (ignored for sockets).")] = 115200,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for an ok (busy keepalives extend it).")] = 10.0,
    move_timeout: Annotated[float, typer.Option(help="Seconds to wait for a move's ok.")] = 120.0,
    syringe_ml: Annotated[float, typer.Option(help="Refuse programs whose syringe volume goes above this.")] = 10.0,
    check_only: Annotated[bool, typer.Option("--check-only", help="Only check the program; send nothing.")] = False,
) -> None:
    """Check a G-code program, then send it with a progress bar and print a summary (lines, resends, errors)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from labloop.devices.marlin import GCodeLimits, GCodeValidationError, MarlinDriver, RobotError, parse_program

    try:
        lines = file.read_text(encoding="ascii", errors="strict").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {file}: {exc}")
    limits = GCodeLimits(max_volume_ml=syringe_ml)
    try:
        commands = parse_program(lines, limits=limits, source=str(file))
    except GCodeValidationError as exc:
        fail(str(exc))
    if check_only:
        console.print(f"{file}: {len(commands)} commands, all valid; nothing sent")
        return
    driver = MarlinDriver(port, timeout_s=timeout, move_timeout_s=move_timeout, baudrate=baudrate)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task(f"sending {file.name}", total=len(commands))
        try:
            driver.connect()
            summary = driver.run_program(commands, source=str(file),
                                         progress=lambda done, total, cmd: progress.update(
                                             task, completed=done, description=f"{cmd[:28]:<28}"))
        except RobotError as exc:
            notes = "; ".join(getattr(exc, "__notes__", []))
            s = driver.stats
            fail(f"{exc}{' (' + notes + ')' if notes else ''}\n  sent {s.lines_sent} lines, {s.resends} resends, "
                 f"{s.errors} errors, {s.reconnects} reconnects")
        finally:
            driver.close()
    console.print(f"done: {summary.line()}")


def acquire(
    camera: Annotated[str, typer.Option(help="Camera spec: '0', 'file:run.mp4', 'folder:DIR', rtsp://..., or "
                                              "'sim:seed=1,onset=2h,offset=3mm' (simulated vial).")],
    robot: Annotated[str | None, typer.Option(help="Robot URL whose traffic is recorded (optional).")] = None,
    interval: Annotated[str, typer.Option(help="Time between frames, e.g. 60s, 5m.")] = "60s",
    duration: Annotated[str, typer.Option(help="Length of the run, e.g. 12h, 90m.")] = "12h",
    experiment: Annotated[int | None, typer.Option(help="Experiment id the run belongs to.")] = None,
    operator: Annotated[str, typer.Option(help="Who did the dispensing: robot or human.")] = "robot",
    name: Annotated[str, typer.Option(help="A short name for the run.")] = "",
    clock: Annotated[str, typer.Option(help="'real', or 'sim' (simulated time: a 12 h run takes seconds).")] = "real",
    sim_speedup: Annotated[float | None, typer.Option(help="With --clock sim: simulated seconds per real second "
                                                           "(default: as fast as possible).")] = None,
    gcode: Annotated[Path | None, typer.Option(help="G-code program to run on the robot at the start.")] = None,
    quality: Annotated[int, typer.Option(help="JPEG quality of stored frames (1-100).")] = 90,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each reconnect and gap.")] = False,
) -> None:
    """Record a run: a frame every INTERVAL into the frame store, robot traffic as device events, outages as gaps.
    Ctrl-C (or SIGTERM) closes the run cleanly as aborted; a run left by a killed process is marked failed at
    the next start."""
    import signal
    import threading

    from labloop.config import get_settings
    from labloop.devices.acquisition import AcquisitionConfigError, run_acquisition
    from labloop.devices.cameras import CameraError
    from labloop.devices.marlin import GCodeValidationError, RobotError
    from labloop.knowledge_base.db import session_scope
    from labloop.knowledge_base.frame_store import FrameStore
    from labloop.knowledge_base.models import Frame, Gap, Run

    setup_logging(verbose)
    config = acquisition_config(camera=camera, robot=robot, interval=interval, duration=duration,
                                experiment=experiment, operator=operator, name=name, clock=clock, gcode=gcode,
                                sim_speedup=sim_speedup, quality=quality)
    engine = open_engine()
    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        console.print(f"{signal.Signals(signum).name}: closing the run after the current frame")
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    console.print(f"recording {config.frame_count} frames every {config.interval_s:g} s from {camera}"
                  f"{' (simulated clock)' if clock == 'sim' else ''}; Ctrl-C to stop")
    try:
        run_id = run_acquisition(config, engine=engine, store=FrameStore(get_settings().frames_dir), stop=stop)
    except (GCodeValidationError, AcquisitionConfigError, CameraError, RobotError) as exc:
        fail(str(exc))
    with session_scope(engine) as session:
        run = session.get(Run, run_id)
        frames = session.query(Frame).filter(Frame.run_id == run_id).count()
        gaps = session.query(Gap).filter(Gap.run_id == run_id).count()
    console.print(f"run {run_id}: {run.status} ({run.exit_reason}); {frames} frames, {gaps} gap(s)")
    if run.status == "failed":
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add this area's commands to `app`."""
    app.add_typer(robot_app, name="robot")
    app.command("acquire")(acquire)


def acquisition_config(*, camera: str, robot: str | None, interval: str, duration: str, experiment: int | None,
                       operator: str, name: str, clock: str, gcode: Path | None, sim_speedup: float | None = None,
                       quality: int = 90):  # noqa: ANN201 (AcquisitionConfig, imported lazily)
    """An acquisition config from command-line words (`60s`, `12h`, a G-code file), or a clean CLI error.
    Shared by `labloop acquire` and `labloop observe --camera ...`."""
    from labloop.devices.acquisition import AcquisitionConfig
    from labloop.devices.quantities import parse_duration

    try:
        program = gcode.read_text(encoding="ascii").splitlines() if gcode else None
        config = AcquisitionConfig(camera_spec=camera, robot_url=robot, interval_s=parse_duration(interval),
                                   duration_s=parse_duration(duration), experiment_id=experiment,
                                   operator=operator, name=name, clock=clock, gcode=program,  # type: ignore[arg-type]
                                   sim_speedup=sim_speedup, jpeg_quality=quality)
        config.check()
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        fail(str(exc))
    return config
