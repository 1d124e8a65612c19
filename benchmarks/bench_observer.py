"""Observer figures: overhead per frame excluding the LLM call (median, with the SQLite checkpointer and
database), and vision-model calls per simulated 12-hour night at the default settings.

    python benchmarks/bench_observer.py [--interval 60]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from labloop.agents.demo import ONSET_S, SETUP
from labloop.agents.observer.checkpoints import open_checkpointer
from labloop.agents.observer.runner import ObserveOptions, observe_run
from labloop.agents.llm_call import ChatReply
from labloop.config import Settings
from labloop.devices.acquisition import AcquisitionConfig, run_acquisition
from labloop.knowledge_base.db import get_engine, session_scope
from labloop.knowledge_base.frame_store import FrameStore
from labloop.knowledge_base.models import Experiment


class NoNetworkDescriber:
    """Stands in for the vision model so only the observer's own work is timed; counts the calls it gets."""

    model, endpoint, prompt_hash, max_retries = "not-called", None, "0" * 16, 0

    def __init__(self) -> None:
        self.calls = 0

    def request(self, item):  # noqa: ANN001, ANN201
        self.calls += 1
        return ChatReply('{"note": "x", "turbidity": 1, "confidence": 0.5, "events": []}', None, 0.0)

    def provenance(self, sha, replies):  # noqa: ANN001, ANN201
        from labloop.knowledge_base.observations import Provenance

        return Provenance(source="llm", model=self.model)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between frames (default 60)")
    parser.add_argument("--hours", type=float, default=12.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        engine = get_engine(settings)
        with session_scope(engine) as session:
            experiment = Experiment(name="bench", setup=SETUP)
            session.add(experiment)
            session.flush()
            experiment_id = experiment.id
        config = AcquisitionConfig(camera_spec=f"sim:seed=1,onset={ONSET_S:g}s,offset=3mm", interval_s=args.interval,
                                   duration_s=args.hours * 3600, operator="robot", name="bench",
                                   experiment_id=experiment_id, clock="sim")
        run_id = run_acquisition(config, engine=engine, store=FrameStore(settings.frames_dir))
        describer = NoNetworkDescriber()
        stamps: list[float] = []
        import labloop.agents.observer.runner as runner

        runner.VisionDescriber = lambda s: describer  # the only substitution: no HTTP to a model
        cfg = settings.model_copy(update={"llm_base_url": "http://unused/v1", "llm_model": "m"})
        began = time.perf_counter()
        with open_checkpointer(settings.effective_database_url) as saver:
            summary = observe_run(engine, cfg, run_id, checkpointer=saver, options=ObserveOptions(),
                                  on_frame=lambda frame: stamps.append(time.perf_counter()))
        total = time.perf_counter() - began
    per_frame = [b - a for a, b in zip(stamps, stamps[1:])]
    rows = [
        ("frames in the simulated night", f"{summary.frames} ({args.hours:g} h every {args.interval:g} s)"),
        ("observer overhead per frame, median (no LLM)", f"{statistics.median(per_frame) * 1000:.1f} ms"),
        ("observer overhead per frame, p95", f"{sorted(per_frame)[int(0.95 * len(per_frame))] * 1000:.1f} ms"),
        ("whole night observed in", f"{total:.1f} s"),
        ("vision-model calls per night (defaults: every 12th frame or haze moved 0.08)", str(describer.calls)),
    ]
    width = max(len(r[0]) for r in rows)
    print("labloop observer benchmark (SQLite database + SQLite checkpointer, 1280x720 simulated frames)")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")


if __name__ == "__main__":
    main()
