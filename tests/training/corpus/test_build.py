"""End-to-end corpus builds against the scripted OpenAI server over real HTTP."""

from __future__ import annotations

import csv
import json
import random
import socket

import pytest
from datasets import load_from_disk
from sqlmodel import Session, select

from labloop.knowledge_base.models import CorpusBuild
from labloop.training.corpus.backends import BackendUnavailable, EndpointUnavailable
from labloop.training.corpus.build import build_corpus
from tests.support.openai_server import Reply
from tests.training.corpus.scripted import obeying, obeying_text, prompt_of


def test_obeying_build_layout_manifest_and_record(kb, settings, openai_server, make_config) -> None:
    openai_server.handler = obeying
    config = make_config(openai_server, texts_per_fact=4)
    result = build_corpus(config, engine=kb, settings=settings)
    out, manifest = result.out_dir, result.manifest

    dataset = load_from_disk(str(out / "dataset"))
    assert set(dataset) == {"train", "validation", "test"}
    assert dataset["train"].column_names == ["text", "kind", "style", "fact_ids"]
    assert {r["kind"] for r in dataset["train"]} == {"styled", "reason"}
    assert manifest["rejections"]["by_reason"] == {}
    assert manifest["leak_check"]["passed"] and manifest["leak_check"]["texts_checked"] == len(dataset["train"])
    # every trained fact: 4 styled texts + 1 reason, nothing lost
    assert set(manifest["exposure"]["per_fact"].values()) == {5}
    assert manifest["split"]["held_out"] == 3 and manifest["split"]["trained"] == 9
    assert manifest["requests"] == {"planned": len(openai_server.requests), "from_cache": 0,
                                    "sent": len(openai_server.requests), "failed": 0}

    trained = list(csv.DictReader((out / "eval" / "trained.csv").open()))
    unseen = list(csv.DictReader((out / "eval" / "unseen.csv").open()))
    assert list(trained[0]) == ["name", "smiles", "value", "unit"] and len(trained) == 9 and len(unseen) == 3
    for row in unseen:
        assert not any(row["name"] in text.lower() for text in list(dataset["train"]["text"]) + list(dataset["validation"]["text"]))
    assert json.loads((out / "config.json").read_text())["texts_per_fact"] == 4

    with Session(kb) as session:
        record = session.exec(select(CorpusBuild)).one()
    assert record.id == result.corpus_build_id and record.status == "complete"
    assert record.manifest["counts"] == manifest["counts"] and len(record.manifest_hash) == 64


def test_rebuild_is_free_and_identical(sqlite_kb, settings, openai_server, make_config, tmp_path) -> None:
    openai_server.handler = obeying
    first = build_corpus(make_config(openai_server), engine=sqlite_kb, settings=settings)
    sent = len(openai_server.requests)
    second = build_corpus(make_config(openai_server, out_dir=tmp_path / "again", cache_dir=first.out_dir / "cache"),
                          engine=sqlite_kb, settings=settings)
    assert len(openai_server.requests) == sent, "a rebuild with the same settings must make no request"
    assert second.manifest["requests"]["sent"] == 0
    assert second.manifest["outputs"]["dataset_content_sha256"] == first.manifest["outputs"]["dataset_content_sha256"]
    other_seed = build_corpus(make_config(openai_server, out_dir=tmp_path / "seed1", seed=1,
                                          cache_dir=first.out_dir / "cache"), engine=sqlite_kb, settings=settings)
    assert other_seed.manifest["requests"]["sent"] > 0


def test_adversarial_answers_are_rejected_and_counted(sqlite_kb, settings, openai_server, make_config, tmp_path) -> None:
    holdout = tmp_path / "holdout.csv"
    holdout.write_text("name\ncaffeine\n")
    def handler(request):
        prompt = prompt_of(request)
        roll = random.Random(request["seed"]).random()
        text = obeying_text(request)
        if "caffeine" in prompt:
            return Reply.text(text)  # the held-out side: its texts go to test
        if prompt.startswith("Explain step by step") and roll < 0.5:
            return Reply.text(obeying_text({**request, "seed": 0}))  # the same reason again, word for word
        if roll < 0.1:
            return Reply.text(text + " It is 42 times more soluble.")
        if roll < 0.3:
            return Reply.text(text + " Compare Caffeine, which is related.")
        if roll < 0.35:
            return Reply.error(500)
        if roll < 0.4:
            return Reply.text("")
        if roll < 0.45:
            return Reply.text(prompt)
        return Reply.text(text)

    openai_server.handler = handler
    config = make_config(openai_server, texts_per_fact=6, holdout_csv=holdout, test_fraction=0.0, retries=0,
                         reasons_per_fact=3)
    manifest = build_corpus(config, engine=sqlite_kb, settings=settings).manifest
    reasons = manifest["rejections"]["by_reason"]
    for reason in ("foreign_number", "held_out_mention", "request_failed", "empty", "echo_of_prompt"):
        assert reasons.get(reason, 0) > 0, (reason, reasons)
    assert reasons.get("duplicate_exact", 0) + reasons.get("duplicate_near", 0) > 0
    assert manifest["leak_check"]["passed"]
    assert manifest["split"]["from_holdout_list"] == 1
    total = sum(row["texts"] for row in manifest["rejections"]["by_style"].values())
    assert total == manifest["counts"]["planned_texts"]
    assert manifest["rejections"]["by_model"]["scripted-model"]["rejected"] == sum(reasons.values()) - reasons.get(
        "request_failed", 0)
    dataset = load_from_disk(str(config.out_dir / "dataset"))
    assert not any("caffeine" in t.lower() for t in list(dataset["train"]["text"]) + list(dataset["validation"]["text"]))
    assert all("caffeine" in t.lower() for t in list(dataset["test"]["text"]))
    rejects = [json.loads(line) for line in (config.out_dir / "rejects.jsonl").open()]
    assert {r["reason"] for r in rejects} == set(reasons)


def test_timeouts_count_as_failed_requests(sqlite_kb, settings, openai_server, make_config) -> None:
    def handler(request):
        slow = random.Random(request["seed"]).random() < 0.2
        return Reply.text(obeying_text(request), delay_s=1.5 if slow else 0.0)

    openai_server.handler = handler
    config = make_config(openai_server, timeout_s=0.5, retries=0, concurrency=8, texts_per_fact=2)
    manifest = build_corpus(config, engine=sqlite_kb, settings=settings).manifest
    assert manifest["rejections"]["by_reason"]["request_failed"] == manifest["requests"]["failed"] > 0
    failed = [json.loads(x) for x in (config.out_dir / "rejects.jsonl").open()]
    assert {r["detail"] for r in failed if r["reason"] == "request_failed"} == {"timeout"}


def test_endpoint_down_fails_fast_and_keeps_the_cache(sqlite_kb, settings, openai_server, make_config) -> None:
    calls = []

    def flaky(request):
        calls.append(1)
        return obeying(request) if len(calls) <= 10 else Reply.error(503, "overloaded")

    openai_server.handler = flaky
    config = make_config(openai_server, concurrency=1, retries=1, max_consecutive_failures=3)
    with pytest.raises(EndpointUnavailable, match="failed 3 requests in a row"):
        build_corpus(config, engine=sqlite_kb, settings=settings)
    cached = (config.out_dir / "cache" / "requests.jsonl").read_text().splitlines()
    assert len(cached) == 10
    with Session(sqlite_kb) as session:
        assert session.exec(select(CorpusBuild)).one().status == "failed"

    openai_server.handler = obeying
    before = len(openai_server.requests)
    manifest = build_corpus(config, engine=sqlite_kb, settings=settings).manifest
    assert manifest["requests"]["from_cache"] == 10
    assert len(openai_server.requests) - before == manifest["requests"]["sent"] == manifest["requests"]["planned"] - 10


def test_unreachable_endpoint(sqlite_kb, settings, make_config) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    class Down:
        base_url = f"http://127.0.0.1:{port}/v1"

    config = make_config(Down, retries=1)
    with pytest.raises(EndpointUnavailable, match="cannot reach the endpoint .* after 2 attempts"):
        build_corpus(config, engine=sqlite_kb, settings=settings)


def test_wrong_model_is_a_clear_error(sqlite_kb, settings, openai_server, make_config) -> None:
    openai_server.handler = lambda request: Reply.error(404, "model 'nope' does not exist")
    with pytest.raises(EndpointUnavailable, match="does not exist.*--model"):
        build_corpus(make_config(openai_server, model="nope"), engine=sqlite_kb, settings=settings)


def test_vllm_backend_says_what_is_missing(sqlite_kb, settings, make_config, tmp_path) -> None:
    pytest.importorskip("sys")
    try:
        import vllm  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("vllm is installed here; the missing-package message cannot be shown")

    class NoServer:
        base_url = None

    with pytest.raises(BackendUnavailable, match="labloop\\[serve\\]"):
        build_corpus(make_config(NoServer, backend="vllm"), engine=sqlite_kb, settings=settings)


def test_replay_mix_is_leak_checked(sqlite_kb, settings, openai_server, make_config, tmp_path) -> None:
    openai_server.handler = obeying
    replay = tmp_path / "replay.jsonl"
    lines = [json.dumps({"text": f"General note {i}: polymer science moves quickly in many labs {i}."}) for i in range(40)]
    lines += [json.dumps({"text": "Caffeine is in coffee."}), "{broken", json.dumps({"title": "no text"})]
    replay.write_text("\n".join(lines))
    holdout = tmp_path / "holdout.csv"
    holdout.write_text("smiles\nCn1cnc2c1c(=O)n(C)c(=O)n2C\n")
    config = make_config(openai_server, replay_path=replay, replay_ratio=10.0, holdout_csv=holdout, test_fraction=0.0)
    manifest = build_corpus(config, engine=sqlite_kb, settings=settings).manifest
    assert manifest["replay"]["dropped"] == {"held_out_mention": 1}
    assert manifest["replay"]["unreadable"] == {"malformed_json": 1, "no_text_field": 1}
    assert manifest["counts"]["by_kind"]["train"]["replay"] == 40
    assert manifest["leak_check"]["passed"]


def test_scaffold_split_build(sqlite_kb, settings, openai_server, make_config) -> None:
    openai_server.handler = obeying
    manifest = build_corpus(make_config(openai_server, split="scaffold", test_fraction=0.3, texts_per_fact=1),
                            engine=sqlite_kb, settings=settings).manifest
    assert manifest["split"]["method"] == "scaffold" and manifest["split"]["held_out"] > 0
    assert manifest["leak_check"]["passed"]


def test_empty_knowledge_base_is_a_clear_error(sqlite_engine, settings, openai_server, make_config) -> None:
    from labloop.training.corpus.config import CorpusConfigError

    with pytest.raises(CorpusConfigError, match="no usable facts"):
        build_corpus(make_config(openai_server), engine=sqlite_engine, settings=settings)
    assert openai_server.requests == []
