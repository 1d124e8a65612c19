"""Per-frame acquisition overhead: grab from the simulated camera at 1280x720, JPEG-encode, store (atomic,
content-addressed) and write the Frame row in SQLite; median and p99, and memory (RSS) over the run.

    python benchmarks/bench_acquisition.py [--frames 10000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        import os

        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    from labloop.devices.acquisition import AcquisitionConfig, CapturedFrame, run_acquisition
    from labloop.devices.clock import SimClock
    from labloop.knowledge_base.db import make_engine
    from labloop.knowledge_base.frame_store import FrameStore
    from labloop.knowledge_base.migrate import upgrade

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="labloop-bench-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'kb.sqlite'}")
        upgrade(engine)
        stamps: list[float] = []
        rss: dict[int, float] = {}

        def on_frame(frame: CapturedFrame) -> None:
            stamps.append(time.perf_counter())
            if frame.seq in checkpoints:
                rss[frame.seq] = rss_mb()

        checkpoints = {0, 100, args.frames // 10, args.frames // 2, args.frames - 1}
        config = AcquisitionConfig(camera_spec="sim:seed=1,onset=2h,width=1280,height=720", interval_s=1.0,
                                   duration_s=args.frames - 1, clock="sim")
        began = time.perf_counter()
        run_acquisition(config, engine=engine, store=FrameStore(Path(tmp) / "frames"), clock=SimClock(),
                        on_frame=on_frame)
        total = time.perf_counter() - began
        per_frame = sorted((b - a) * 1000 for a, b in zip(stamps, stamps[1:]))
        size = sum(p.stat().st_size for p in (Path(tmp) / "frames").rglob("*.jpg"))
    p99 = per_frame[min(len(per_frame) - 1, int(0.99 * len(per_frame)))]
    print(f"acquisition overhead, sim camera 1280x720, JPEG q90, SQLite, {len(stamps)} frames")
    print(f"{'metric':<28}{'value':>12}")
    print(f"{'median ms/frame':<28}{statistics.median(per_frame):>12.2f}")
    print(f"{'p99 ms/frame':<28}{p99:>12.2f}")
    print(f"{'max ms/frame':<28}{per_frame[-1]:>12.2f}")
    print(f"{'frames/s overall':<28}{len(stamps) / total:>12.1f}")
    print(f"{'mean JPEG KiB':<28}{size / len(stamps) / 1024:>12.1f}")
    for seq in sorted(rss):
        print(f"{'RSS MiB at frame ' + str(seq):<28}{rss[seq]:>12.1f}")


if __name__ == "__main__":
    main()
