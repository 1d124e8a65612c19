#!/usr/bin/env python3
"""Learning-loop figures: CPU tokens/s of the tiny training loop, evaluation requests/s against a local
OpenAI-compatible endpoint, and in-process evaluation rows/s of the tiny model. Prints a table.

    .venv/bin/python benchmarks/bench_training.py [--steps 100] [--requests 400] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    import torch

    from labloop.config import Settings
    from labloop.training.evaluate import EndpointBackend, InProcessBackend, evaluate_rows, read_eval_data
    from labloop.training.pretrain import train
    from tests.support.openai_server import Reply, ScriptedOpenAIServer
    from tests.training.conftest import tiny_config
    from tests.training.corpus_fixture import write_corpus

    rows_out = []
    with tempfile.TemporaryDirectory() as tmp:
        corpus = write_corpus(Path(tmp) / "corpus", repeats=16)
        result = train(tiny_config(corpus, Path(tmp) / "run", max_steps=args.steps, eval_every=0))
        m = result.metrics
        rows_out.append(("tiny training (CPU, block 128, batch 8)", f"{m['tokens_per_s']:.0f} tokens/s",
                         f"{m['steps']} steps, {m['tokens']} tokens, {m['wall_s']:.1f} s, torch threads "
                         f"{torch.get_num_threads()}"))
        eval_rows = read_eval_data(corpus / "eval" / "trained.csv").rows + read_eval_data(corpus / "eval" / "unseen.csv").rows
        batch = eval_rows * 8
        started = time.perf_counter()
        evaluate_rows(batch, InProcessBackend(result.model_dir, max_new_tokens=16))
        wall = time.perf_counter() - started
        rows_out.append(("in-process evaluation (tiny, 16 new tokens)", f"{len(batch) / wall:.1f} rows/s",
                         f"{len(batch)} rows in {wall:.2f} s"))

        with ScriptedOpenAIServer() as server:
            server.handler = lambda request: Reply.text("#Reason: packing.\n#Prediction: 120-125")
            backend = EndpointBackend(Settings(data_dir=Path(tmp)), base_url=server.base_url, model="bench",
                                      concurrency=args.concurrency)
            requests = (eval_rows * (args.requests // len(eval_rows) + 1))[: args.requests]
            started = time.perf_counter()
            report = evaluate_rows(requests, backend)
            wall = time.perf_counter() - started
            assert report.metrics["answered"] == len(requests)
            rows_out.append((f"endpoint evaluation (concurrency {args.concurrency})",
                             f"{len(requests) / wall:.0f} requests/s", f"{len(requests)} requests in {wall:.2f} s"))

    width = max(len(r[0]) for r in rows_out)
    print(f"{'measurement':<{width}}  {'figure':>18}  detail")
    for name, figure, detail in rows_out:
        print(f"{name:<{width}}  {figure:>18}  {detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
