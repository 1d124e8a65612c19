"""`build_corpus`: knowledge base -> facts -> split -> prompts -> (cached) generation -> checks -> dataset + manifest.

The build is recorded as a CorpusBuild row (running, then complete or failed). Every answer is cached before it
is checked, so an interrupted build resumes and a rebuild with the same settings makes no requests.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from labloop.config import Settings
from labloop.knowledge_base.db import session_scope
from labloop.knowledge_base.models import CorpusBuild
from labloop.knowledge_base.types import utcnow
from labloop.training.corpus.assemble import SPLIT_NAMES, Assembler
from labloop.training.corpus.backends import Backend, GenAnswer, GenRequest, OpenAIBackend, VLLMBackend
from labloop.training.corpus.cache import RequestCache, request_key
from labloop.training.corpus.config import CorpusConfig, CorpusConfigError
from labloop.training.corpus.export import export_records
from labloop.training.corpus.facts import facts_from_records, read_facts_jsonl
from labloop.training.corpus.leak import LeakMatcher
from labloop.training.corpus.manifest import exposure_summary, sha256_file, sha256_json, sha256_tree
from labloop.training.corpus.output import write_dataset, write_eval_lists, write_rejects
from labloop.training.corpus.prompts import TEMPLATE_HASH, PlannedText, plan_texts
from labloop.training.corpus.replay import read_replay, sample_replay
from labloop.training.corpus.splits import make_split, read_holdout_csv

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""Called as progress(stage, done, total) while requests complete."""


@dataclass
class CorpusResult:
    out_dir: Path
    corpus_build_id: int
    manifest: dict[str, Any]


def make_backend(config: CorpusConfig, settings: Settings) -> Backend:
    """The configured backend; raises LLMNotConfigured / BackendUnavailable with an actionable message."""
    from labloop.agents.llm_client import LLMNotConfigured, make_async_client

    model = config.model or settings.llm_model
    if not model:
        raise LLMNotConfigured("corpus build")
    if config.backend == "vllm":
        return VLLMBackend(model, seed=config.seed)
    client = make_async_client(settings, base_url=config.base_url, timeout_s=config.timeout_s, feature="corpus build",
                               max_connections=config.concurrency)
    return OpenAIBackend(client, model, concurrency=config.concurrency, retries=config.retries,
                         max_consecutive_failures=config.max_consecutive_failures)


def _request(planned: PlannedText, config: CorpusConfig, model: str) -> GenRequest:
    tag = f"{config.seed}|{planned.kind}|{planned.style}|{planned.sample}|{','.join(planned.fact_ids)}"
    params = {"temperature": config.temperature, "top_p": config.top_p, "max_tokens": config.max_tokens,
              "seed": int(hashlib.sha256(tag.encode()).hexdigest()[:8], 16)}
    return GenRequest(request_key(planned.prompt, model, params), planned.prompt, params)


def _generate(backend: Backend, requests: list[GenRequest], cache: RequestCache, progress: Progress | None,
              ) -> tuple[dict[str, str], dict[str, int]]:
    """Send the requests the cache lacks; returns failure reasons by key and request counts."""
    missing = list({r.key: r for r in requests if r.key not in cache}.values())
    total, done = len(requests), len(requests) - len(missing)
    failures: dict[str, str] = {}
    if progress:
        progress("generate", done, total)

    def on_answer(answer: GenAnswer) -> None:
        nonlocal done
        done += 1
        if answer.error is None:
            cache.put(answer.key, {"text": answer.text, "model": answer.model, "latency_s": round(answer.latency_s, 4),
                                   "prompt_tokens": answer.prompt_tokens, "completion_tokens": answer.completion_tokens})
        else:
            failures[answer.key] = answer.error
        if progress:
            progress("generate", done, total)

    if missing:
        log.info("generating %d of %d texts (%d cached)", len(missing), total, total - len(missing))
        asyncio.run(backend.run(missing, on_answer))
    counts = {"planned": total, "from_cache": total - len(missing), "sent": len(missing), "failed": len(failures)}
    return failures, counts


def _load_facts(config: CorpusConfig, engine: Engine) -> tuple[list, Counter, str]:
    if config.facts_path is not None:
        records, rejects = read_facts_jsonl(config.facts_path)
    else:
        records, rejects = export_records(engine, property=config.property_name, max_facts=config.max_facts,
                                          include_runs=config.include_runs, include_notes=config.include_notes), Counter()
    facts, invalid = facts_from_records(records)
    if config.facts_path is not None:  # the knowledge-base export applies these filters in its query
        facts = [f for f in facts if f.kind != "property" or not config.property_name or f.property_name == config.property_name]
        if config.max_facts:
            props = {f.id for f in facts if f.kind == "property"}
            keep = set(sorted(props, key=[f.id for f in facts].index)[: config.max_facts])
            facts = [f for f in facts if f.kind != "property" or f.id in keep]
    return facts, rejects + invalid, sha256_json(records)


def build_corpus(config: CorpusConfig, *, engine: Engine, settings: Settings, progress: Progress | None = None,
                 backend: Backend | None = None) -> CorpusResult:
    """Build the corpus described by `config` into `config.out_dir` and record it as a CorpusBuild."""
    config.validate()
    out = config.out_dir
    out.mkdir(parents=True, exist_ok=True)
    config.save(out / "config.json")
    with session_scope(engine) as session:
        record = CorpusBuild(out_dir=str(out.resolve()), config=config.to_dict(), status="running")
        session.add(record)
        session.flush()
        build_id = record.id
    try:
        manifest = _build(config, engine, settings, progress, backend)
    except BaseException as exc:
        with session_scope(engine) as session:
            row = session.get(CorpusBuild, build_id)
            row.status, row.finished_at = "failed", utcnow()
            row.manifest = {"error": f"{type(exc).__name__}: {exc}"}
        raise
    manifest["corpus_build_id"] = build_id
    manifest_hash = sha256_json(manifest)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    with session_scope(engine) as session:
        row = session.get(CorpusBuild, build_id)
        row.status, row.finished_at, row.manifest, row.manifest_hash = "complete", utcnow(), manifest, manifest_hash
        row.generator_model = manifest["generator"]["model"]
    log.info("corpus build %d complete: %s", build_id, manifest["counts"]["splits"])
    return CorpusResult(out_dir=out, corpus_build_id=build_id, manifest=manifest)


def _build(config: CorpusConfig, engine: Engine, settings: Settings, progress: Progress | None,
           backend: Backend | None) -> dict[str, Any]:
    facts, fact_rejects, facts_hash = _load_facts(config, engine)
    if not facts:
        raise CorpusConfigError(
            f"no usable facts to write about ({dict(fact_rejects) or 'the knowledge base is empty'}); import "
            "measurements first (labloop kb import ...) or pass --facts FILE.jsonl"
        )
    holdout_rows, holdout_problems = read_holdout_csv(config.holdout_csv) if config.holdout_csv else ([], {})
    split = make_split(facts, method=config.split, test_fraction=config.test_fraction, seed=config.seed,
                       holdout_rows=holdout_rows)
    plan = plan_texts(facts, split.held_out_keys, texts_per_fact=config.texts_per_fact,
                      reasons_per_fact=config.reasons_per_fact if config.reasons else 0, styles=config.styles,
                      seed=config.seed)
    backend = backend or make_backend(config, settings)
    requests = [_request(p, config, backend.model) for p in plan]
    with RequestCache(config.effective_cache_dir) as cache:
        failures, request_counts = _generate(backend, requests, cache, progress)
        assembler = Assembler({f.id: f for f in facts}, LeakMatcher(split.held_out),
                              dedup_threshold=config.dedup_threshold)
        for planned, request in zip(plan, requests, strict=True):
            assembler.add(planned, cache.get(request.key), failures.get(request.key))
    n_generated_train = len(assembler.out.rows) - len(assembler.out.split_rows("test"))
    replay_hash = None
    if config.replay_path is not None and config.replay_ratio > 0:
        texts, problems = read_replay(config.replay_path)
        assembler.add_replay(sample_replay(texts, n_generated_train, config.replay_ratio, config.seed),
                             len(texts), problems)
        replay_hash = sha256_file(config.replay_path) if config.replay_path.is_file() else sha256_json(texts)
    assembler.carve_validation(config.validation_fraction, config.seed)
    trained_ids = [f.id for f in facts if f.compound_key not in split.held_out_keys]
    exposure = assembler.exposure(trained_ids)
    leak = assembler.prove_no_leak()
    content = write_dataset(assembler.out, config.out_dir / "dataset")
    evals = write_eval_lists(config.out_dir / "eval", facts, exposure=exposure, held_out=split.held_out_keys,
                             holdout_rows=holdout_rows, property=config.property_name)
    write_rejects(config.out_dir / "rejects.jsonl", assembler.out.rejects)
    rows = assembler.out.rows
    return {
        "config": config.to_dict(),
        "generator": {"backend": getattr(backend, "name", type(backend).__name__), "model": backend.model,
                      "base_url": str(getattr(backend, "base_url", "")), "prompt_template_sha256": TEMPLATE_HASH,
                      "provenance": "texts written by the generator model from knowledge-base facts"},
        "facts": {"total": len(facts), "by_kind": dict(Counter(f.kind for f in facts)),
                  "rejected": dict(fact_rejects)},
        "split": split.info | {"holdout_problems": holdout_problems},
        "requests": request_counts,
        "counts": {
            "planned_texts": len(plan), "accepted": sum(r.kind != "replay" for r in rows),
            "splits": {s: sum(r.split == s for r in rows) for s in SPLIT_NAMES},
            "by_kind": {s: dict(Counter(r.kind for r in rows if r.split == s)) for s in SPLIT_NAMES},
        },
        "rejections": assembler.out.rejections.as_dict(),
        "exposure": exposure_summary(exposure),
        "replay": assembler.out.replay,
        "leak_check": leak,
        "eval": evals,
        "inputs": {"facts_sha256": facts_hash, "holdout_csv_sha256": sha256_file(config.holdout_csv)
                   if config.holdout_csv else None, "replay_sha256": replay_hash},
        "outputs": {"dataset_content_sha256": content,
                    "files": {**{f"dataset/{k}": v for k, v in sha256_tree(config.out_dir / "dataset").items()},
                              **{f"eval/{k}": v for k, v in sha256_tree(config.out_dir / "eval").items()}}},
    }
