"""Knowledge-base speed: full Bradley import time and batched device-event insert throughput,
on SQLite (file, WAL) and on PostgreSQL when LABLOOP_BENCH_POSTGRES_URL (or LABLOOP_TEST_POSTGRES_URL) is set.

    .venv/bin/python benchmarks/bench_kb.py [--events 200000] [--batch 1000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import Session  # noqa: E402

from labloop.knowledge_base.chem import canonicalize  # noqa: E402
from labloop.knowledge_base.db import make_engine  # noqa: E402
from labloop.knowledge_base.migrate import upgrade  # noqa: E402
from labloop.knowledge_base.molecule_import import import_measurements_csv  # noqa: E402
from labloop.knowledge_base.runs import EventRecord, add_device_events, start_run  # noqa: E402
from labloop.knowledge_base.types import utcnow  # noqa: E402
from tests.support.db import fresh_postgres_database  # noqa: E402

BRADLEY = Path(__file__).resolve().parents[2] / "shared" / "data" / "melting_points" / "bradley_open_mp.csv"


def bench_import(url: str) -> tuple[float, str]:
    engine = make_engine(url)
    upgrade(engine)
    canonicalize.cache_clear()  # each backend pays for RDKit parsing itself
    t0 = time.perf_counter()
    summary = import_measurements_csv(engine, BRADLEY)
    elapsed = time.perf_counter() - t0
    engine.dispose()
    return elapsed, summary.line()


def bench_events(url: str, n: int, batch: int) -> float:
    engine = make_engine(url)
    upgrade(engine)
    t0 = utcnow()
    lines = ["N12 G1 X10.5 Y20 F3000*71", "ok", "echo:busy: processing", "X:10.50 Y:20.00 Z:5.00 E:0.025"]
    with Session(engine) as s:
        run = start_run(s, config_snapshot={"bench": True})
        s.commit()
        run_id = run.id
    start = time.perf_counter()
    seq = 0
    while seq < n:
        events = [EventRecord(ts=t0 + timedelta(milliseconds=seq + i), device="robot",
                              direction="tx" if i % 2 == 0 else "rx", payload=lines[i % 4])
                  for i in range(min(batch, n - seq))]
        with Session(engine) as s:
            seq = add_device_events(s, run_id, events, first_seq=seq)
            s.commit()
    rate = n / (time.perf_counter() - start)
    engine.dispose()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1_000)
    args = parser.parse_args()
    pg = os.environ.get("LABLOOP_BENCH_POSTGRES_URL") or os.environ.get("LABLOOP_TEST_POSTGRES_URL")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        backends = [("sqlite", lambda name: f"sqlite:///{Path(tmp) / name}.db")]
        for backend, make_url in backends:
            if BRADLEY.exists():
                seconds, line = bench_import(make_url("import"))
                rows.append((backend, "Bradley import (26,494 rows)", f"{seconds:.1f} s", line))
            rate = bench_events(make_url("events"), args.events, args.batch)
            rows.append((backend, f"device events, batches of {args.batch}", f"{rate:,.0f} rows/s", f"{args.events:,} rows"))
    if pg:
        os.environ.setdefault("LABLOOP_TEST_POSTGRES_URL", pg)
        if BRADLEY.exists():
            with fresh_postgres_database() as url:
                seconds, line = bench_import(url)
            rows.append(("postgresql", "Bradley import (26,494 rows)", f"{seconds:.1f} s", line))
        with fresh_postgres_database() as url:
            rate = bench_events(url, args.events, args.batch)
        rows.append(("postgresql", f"device events, batches of {args.batch}", f"{rate:,.0f} rows/s", f"{args.events:,} rows"))
    print(f"{'backend':<11} {'what':<34} {'result':>16}  detail")
    for backend, what, result, detail in rows:
        print(f"{backend:<11} {what:<34} {result:>16}  {detail}")


if __name__ == "__main__":
    main()
