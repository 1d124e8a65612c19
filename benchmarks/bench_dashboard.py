"""Dashboard page render times with 100 runs x 1,000 observations (SQLite file, real frame files).

Each page is rendered by streamlit's AppTest (the full script: queries, charts, images) a few times after a
warm-up; the table shows the median and worst time per page. Target: every page under 1 s.

    .venv/bin/python benchmarks/bench_dashboard.py [--runs 100] [--frames 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGES = [("runs", {}), ("run_detail", {"run": "MIDDLE"}), ("compare", {"runs": "1,2"}), ("label", {"run": "MIDDLE"}),
         ("molecules", {"q": "toluenesulfonyl"}), ("training", {}), ("chat", {})]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="labloop-bench-dash-") as tmp:
        return measure(args, Path(tmp))


def measure(args: argparse.Namespace, data_dir: Path) -> int:
    """Fill a database in `data_dir` and time every page on it."""
    os.environ["LABLOOP_DATA_DIR"] = str(data_dir)
    for var in ("LABLOOP_DATABASE_URL", "LABLOOP_LLM_BASE_URL", "LABLOOP_LLM_MODEL"):
        os.environ.pop(var, None)

    from streamlit.testing.v1 import AppTest
    from sqlmodel import Session

    from labloop.config import get_settings
    from labloop.knowledge_base import queries as q
    from labloop.knowledge_base.db import get_engine
    from tests.dashboard.seed import seed

    settings = get_settings()
    engine = get_engine(settings)
    start = time.perf_counter()
    seed(engine, settings.frames_dir, n_runs=args.runs, n_frames=args.frames)
    fill_s = time.perf_counter() - start
    middle = max(1, args.runs // 2)  # a run in the middle of the list, as a chemist would open one
    with Session(engine) as s:
        t = time.perf_counter()
        q.turbidity_series(s, middle)
        series_ms = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        q.list_runs(s)
        list_ms = (time.perf_counter() - t) * 1000
    engine.dispose()
    size_mb = (data_dir / "labloop.db").stat().st_size / 1e6

    app = ROOT / "labloop" / "dashboard" / "app.py"
    rows = []
    for page, params in PAGES:
        times = []
        at = AppTest.from_file(str(app), default_timeout=120)
        at.run()
        at.switch_page(f"views/{page}.py")
        for key, value in params.items():
            at.query_params[key] = str(middle) if value == "MIDDLE" else value
        t = time.perf_counter()
        at.run()  # first render of the page in this session: its imports and queries, caches warm from the app
        first = time.perf_counter() - t
        assert not at.exception, (page, at.exception)
        for _ in range(args.repeat):
            t = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - t)
        rows.append((page, first, statistics.median(times), max(times)))

    print(f"\nDashboard with {args.runs} runs x {args.frames} observations "
          f"({args.runs * args.frames:,} frames; SQLite {size_mb:.0f} MB; filled in {fill_s:.1f} s)")
    print(f"queries: list_runs {list_ms:.0f} ms, turbidity_series(1 run) {series_ms:.0f} ms; machine: {os.cpu_count()} cores")
    print(f"\n| page | first render (s) | median rerun (s) | worst of {args.repeat} (s) | under 1 s |")
    print("|---|---|---|---|---|")
    for page, first, med, worst in rows:
        print(f"| {page} | {first:.3f} | {med:.3f} | {worst:.3f} | {'yes' if max(first, worst) < 1 else 'NO'} |")
    return 0 if all(max(first, worst) < 1 for _, first, _, worst in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
