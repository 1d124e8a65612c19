"""Corpus pipeline throughput.

1. overhead: an in-process backend that answers instantly without HTTP, so the figure is labloop's own cost per
   text (planning, request keys, cache writes, fidelity, leak check, dedup, dataset and manifest).
2. HTTP, zero latency: the real OpenAI client against a local uvicorn/starlette server in another process.
3. HTTP, 50 ms latency at concurrency 64 (ideal 64 / 0.05 s = 1,280 requests/s).

Facts are synthetic (names, SMILES and values made up here), so the benchmark needs no data files.
Run: .venv/bin/python benchmarks/bench_corpus.py [--facts 2000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SMILES = ["c1ccccc1O", "CC(=O)O", "OC(=O)c1ccccc1", "c1ccc2ccccc2c1", "CC(C)(C)O", "C1CCCCC1", "NC(N)=O",
          "CC(=O)Nc1ccccc1", "COc1cc(C=O)ccc1O", "Cc1ccc(C)cc1"]
FILLER = ("Hydrogen bonding between neighbouring molecules raises the value. Symmetric molecules pack well. "
          "Dipole interactions add to dispersion forces. Branching disrupts packing. Aromatic rings stack. ")


def answer_for(prompt: str, seed: int) -> str:
    """An obeying text for a prompt (same idea as the test helper, kept here so benchmarks need no tests/)."""
    rng = random.Random(seed)
    words = FILLER.split(". ")
    rng.shuffle(words)
    tail = ". ".join(words) + f" Variant {rng.choice(['alpha', 'beta', 'gamma', 'delta', 'omega'])} notes."
    if prompt.startswith("Explain step by step why"):
        head = prompt.split("\n")[0]
        compound = head[len("Explain step by step why "):head.index(" (SMILES")]
        value = head.rsplit(" of ", 1)[1].rstrip(".")
        return f"{compound} is discussed here. {tail} Therefore, the melting point of {compound} is {value}."
    data = json.loads(prompt.strip().splitlines()[-1])
    data = data if isinstance(data, list) else [data]
    parts = [f"{d['compound']} ({d['SMILES']}) has a melting point of {d['melting point']}." for d in data]
    return " ".join(parts) + " " + tail


def make_facts(path: Path, n: int) -> None:
    from labloop.knowledge_base.chem import canonicalize

    rng = random.Random(0)
    with path.open("w") as fh:
        for i in range(n):
            smiles = "C" * (i // len(SMILES) + 1) + SMILES[i % len(SMILES)]  # distinct: an alkyl chain on a head group
            key = canonicalize(smiles, allow_mixtures=True).inchikey
            fh.write(json.dumps({"id": f"prop:{key}:mp", "kind": "property", "name": f"benchmarkol {i}",
                                 "smiles": smiles, "property": "melting_point", "unit": "degC",
                                 "value": round(rng.uniform(-50, 300), 1)}) + "\n")


class InstantBackend:
    """Answers every request at once, in process: measures the pipeline without any HTTP."""

    name = "in-process"
    model = "instant"

    async def run(self, requests, on_answer) -> None:
        from labloop.training.corpus.backends import GenAnswer

        for r in requests:
            on_answer(GenAnswer(key=r.key, text=answer_for(r.prompt, r.params["seed"]), model=self.model))


def serve(port: int, latency_s: float) -> None:
    import asyncio

    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def chat(request):
        body = await request.json()
        if latency_s:
            await asyncio.sleep(latency_s)
        text = answer_for(body["messages"][-1]["content"], body.get("seed", 0))
        return JSONResponse({"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                             "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                          "finish_reason": "stop"}],
                             "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}})

    app = Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", backlog=2048)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int) -> None:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("benchmark server did not start")


def run_build(tmp: Path, facts: Path, name: str, *, backend=None, base_url=None, concurrency=64, tpf=4):
    from labloop.config import Settings
    from labloop.knowledge_base.db import make_engine
    from labloop.knowledge_base.migrate import upgrade
    from labloop.training.corpus.build import build_corpus
    from labloop.training.corpus.config import CorpusConfig

    engine = make_engine(f"sqlite:///{tmp / (name + '.db')}")
    upgrade(engine)
    stamps: list[float] = []
    config = CorpusConfig(out_dir=tmp / name, facts_path=facts, texts_per_fact=tpf, base_url=base_url,
                          model="bench-model", concurrency=concurrency, test_fraction=0.1, retries=0)
    started = time.perf_counter()
    result = build_corpus(config, engine=engine, settings=Settings(data_dir=tmp), backend=backend,
                          progress=lambda stage, done, total: stamps.append(time.perf_counter()))
    total = time.perf_counter() - started
    m = result.manifest
    sent = m["requests"]["sent"]
    gen_s = (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0
    return {"texts": m["counts"]["planned_texts"], "accepted": m["counts"]["accepted"], "sent": sent,
            "total_s": total, "gen_s": gen_s, "rejected": sum(m["rejections"]["by_reason"].values())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--facts", type=int, default=2000)
    parser.add_argument("--http-requests-facts", type=int, default=1500)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_corpus_"))
    facts = tmp / "facts.jsonl"
    make_facts(facts, args.facts)
    http_facts = tmp / "http_facts.jsonl"
    make_facts(http_facts, args.http_requests_facts)
    rows = []

    r = run_build(tmp, facts, "overhead", backend=InstantBackend())
    rows.append(("in-process backend, no HTTP (pipeline overhead)", r, r["texts"] / r["total_s"], None))
    for latency in (0.0, 0.05):
        port = free_port()
        proc = multiprocessing.Process(target=serve, args=(port, latency), daemon=True)
        proc.start()
        try:
            wait_port(port)
            r = run_build(tmp, http_facts, f"http{latency}", base_url=f"http://127.0.0.1:{port}/v1")
        finally:
            proc.terminate()
            proc.join()
        ideal = 64 / latency if latency else None
        rows.append((f"HTTP, {latency * 1000:.0f} ms latency, concurrency 64", r, r["sent"] / r["gen_s"], ideal))

    print(f"{'scenario':52} {'texts':>6} {'rejected':>8} {'total s':>8} {'gen s':>7} {'rate/s':>8} {'of ideal':>8}")
    for label, r, rate, ideal in rows:
        share = f"{rate / ideal:.0%}" if ideal else "-"
        print(f"{label:52} {r['texts']:>6} {r['rejected']:>8} {r['total_s']:>8.2f} {r['gen_s']:>7.2f} {rate:>8.0f} {share:>8}")
    print("rate: overhead row = planned texts / whole build; HTTP rows = requests / generation stage.")


if __name__ == "__main__":
    main()
