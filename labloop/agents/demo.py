"""`labloop demo`: the whole loop on simulated devices in about a minute, offline by default.

A simulated Marlin dispenser doses the two monomer solutions into a vial; a simulated camera watches a
compressed 12-hour precipitation polymerisation, once with the vial off-centre on the stirrer (the robot's run)
and once centred (the human's). Both runs are observed, noted and compared. Everything simulated says so."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from labloop.agents.notes.reflection import write_reflection
from labloop.agents.notes.writer import write_lab_note
from labloop.agents.observer.checkpoints import open_checkpointer
from labloop.agents.observer.live import observe_acquisition
from labloop.agents.observer.runner import ObserveOptions, ObserveSummary
from labloop.config import Settings
from labloop.knowledge_base.db import get_engine, session_scope
from labloop.knowledge_base.models import Experiment, Result

ONSET_S = 2 * 3600.0
DURATION_S = 12 * 3600.0
INTERVAL_S = 300.0
ONSET_TOLERANCE_S = 30 * 60.0
ROBOT_OFFSET_MM = 3.0

SETUP = (
    "Precipitation polymerisation of polyamic acid particles. Solution A: 0.2 mmol pyromellitic dianhydride (PMDA) "
    "in 20 mL acetone. Solution B: 0.2 mmol 4,4'-oxydianiline (ODA) in 20 mL acetone. Both are dispensed into a "
    "40 mL vial on a magnetic stirrer at room temperature and stirred overnight; the particles precipitate as the "
    "mixture turns milky. [demo: simulated robot, simulated camera]"
)
SYRINGE_ML = 5  # the simulated dispenser's syringe; each 20 mL solution goes in four strokes


def dispense_program() -> list[str]:
    """Marlin program: E is syringe volume in mL (absolute E; a larger E aspirates, E0 dispenses)."""
    lines = ["G28", "G90", "M82"]
    for reservoir_x in (10, 30):  # solution A, then solution B
        for _ in range(4):
            lines += [f"G1 X{reservoir_x} Y10 Z20 F3000", "G1 Z5 F600", f"G1 E{SYRINGE_ML} F300", "G1 Z20 F600",
                      "G1 X100 Y60 F3000", "G1 Z10 F600", "G1 E0 F300", "G1 Z20 F600"]
    return [*lines, "M400"]


SIMULATED_RESULTS = {"robot": (0.4, 0.06), "human": (0.5, 0.05)}  # mean, sd of particle diameter (µm), demo only


class DemoError(RuntimeError):
    """The demo could not run; the message says which step failed."""


@dataclass
class DemoResult:
    database_url: str
    run_ids: dict[str, int]
    summaries: dict[str, ObserveSummary]
    notes: dict[str, Path]
    reflection: Path
    figures: list[Path] = field(default_factory=list)
    true_onset_s: float = ONSET_S
    llm_used: bool = False

    def onset_error_s(self, operator: str) -> float | None:
        onset = self.summaries[operator].onset_elapsed_s
        return None if onset is None else onset - self.true_onset_s

    def report(self, command: str = "labloop") -> str:
        lines = [f"database: {self.database_url}"]
        for operator, run_id in self.run_ids.items():
            s, err = self.summaries[operator], self.onset_error_s(operator)
            onset = "not detected" if err is None else (f"detected at {s.onset_elapsed_s / 3600:.2f} h "
                                                        f"(simulated onset {self.true_onset_s / 3600:.2f} h, "
                                                        f"{err / 60:+.0f} min)")
            lines.append(f"{operator} run {run_id}: {s.observations} observations, {s.llm_calls} vision-model calls; "
                         f"onset {onset}")
            lines.append(f"  lab note: {self.notes[operator]}")
        lines.append(f"reflection: {self.reflection}")
        lines += [f"figure: {p}" for p in self.figures]
        lines.append("text by: " + ("the configured language model" if self.llm_used else
                                    "templates from the measurements (no language model configured)"))
        lines.append("results (particle diameter) are SIMULATED demo values, not measurements")
        lines.append(f"open the dashboard with: {command} dashboard")
        return "\n".join(lines)


def run_demo(settings: Settings, *, use_llm: bool = True, progress: Callable[[str], None] | None = None,
             duration_s: float = DURATION_S, interval_s: float = INTERVAL_S) -> DemoResult:
    from labloop.devices.acquisition import AcquisitionConfig
    from labloop.devices.simulator import robot_simulator

    say = progress or (lambda text: None)
    llm = use_llm and settings.llm_configured
    engine = get_engine(settings)
    with session_scope(engine) as session:
        experiment = Experiment(name="Polyamic acid particles (demo)", goal="Monodisperse polyamic acid particles; "
                                "compare a robot run with a human run.", setup=SETUP, created_by="labloop demo")
        session.add(experiment)
        session.flush()
        experiment_id = experiment.id
    runs: dict[str, int] = {}
    summaries: dict[str, ObserveSummary] = {}
    with robot_simulator(speed=1000.0) as robot_url, open_checkpointer(settings.effective_database_url) as saver:
        for operator, offset, seed in (("robot", ROBOT_OFFSET_MM, 1), ("human", 0.0, 2)):
            say(f"{operator} run: recording and observing a simulated {duration_s / 3600:g} h night")
            by_robot = operator == "robot"
            config = AcquisitionConfig(
                camera_spec=f"sim:seed={seed},onset={ONSET_S:g}s,offset={offset:g}mm", interval_s=interval_s,
                duration_s=duration_s, operator=operator, experiment_id=experiment_id, clock="sim",
                name=f"demo {operator} run (vial {'off-centre' if offset else 'centred'}, simulated)",
                robot_url=robot_url if by_robot else None, gcode=dispense_program() if by_robot else None,
                syringe_ml=SYRINGE_ML,
            )
            try:
                summary = observe_acquisition(
                    engine, settings, config, checkpointer=saver, options=ObserveOptions(use_llm=llm),
                    on_frame=lambda frame, op=operator: say(f"{op} run: frame {frame['seq']} observed"))
            except Exception as exc:
                raise DemoError(f"the simulated {operator} run failed: {exc}") from exc
            runs[operator], summaries[operator] = summary.run_id, summary
    _record_simulated_results(engine, runs)
    notes = {}
    for operator, run_id in runs.items():
        say(f"writing the {operator} run's lab note")
        notes[operator] = write_lab_note(engine, settings, run_id, use_llm=llm, author="labloop demo").markdown_path
    say("writing the reflection")
    reflection = write_reflection(engine, settings, runs["robot"], runs["human"], use_llm=llm, author="labloop demo")
    figures = [settings.reports_dir / f"run-{r}" / "turbidity.png" for r in runs.values()] + reflection.figure_paths
    return DemoResult(settings.masked()["database_url"], runs, summaries, notes, reflection.markdown_path, figures,
                      llm_used=llm)


def _record_simulated_results(engine, runs: dict[str, int]) -> None:  # noqa: ANN001
    with session_scope(engine) as session:
        for operator, run_id in runs.items():
            mean, sd = SIMULATED_RESULTS[operator]
            method = "SIMULATED for the demo (not an SEM measurement)"
            session.add(Result(run_id=run_id, quantity="particle diameter (mean)", value=mean, unit="µm",
                               method=method, author="labloop demo"))
            session.add(Result(run_id=run_id, quantity="particle diameter (standard deviation)", value=sd, unit="µm",
                               method=method, author="labloop demo"))
