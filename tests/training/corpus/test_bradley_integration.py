"""Integration: import the Bradley melting points, build a corpus from a subset with a scripted endpoint."""

from __future__ import annotations

import random

from labloop.knowledge_base.molecule_import import import_measurements_csv
from labloop.training.corpus.build import build_corpus
from tests.support.openai_server import Reply
from tests.training.corpus.scripted import obeying_text


def test_build_from_bradley(shared_data, sqlite_engine, settings, openai_server, make_config) -> None:
    import_measurements_csv(sqlite_engine, shared_data / "melting_points" / "bradley_double_plus_good_mp.csv",
                            dataset="bradley-dpg")

    def handler(request):
        roll = random.Random(request["seed"]).random()
        text = obeying_text(request)
        if roll < 0.1:
            return Reply.text(text + " The sample was 99 % pure.")
        return Reply.text(text)

    openai_server.handler = handler
    config = make_config(openai_server, max_facts=120, texts_per_fact=4, test_fraction=0.2, split="scaffold",
                         concurrency=8, validation_fraction=0.05)
    manifest = build_corpus(config, engine=sqlite_engine, settings=settings).manifest
    assert manifest["facts"]["by_kind"] == {"property": 120}
    assert manifest["leak_check"]["passed"] and manifest["leak_check"]["texts_checked"] > 150
    exposure = manifest["exposure"]
    assert exposure["facts"] == manifest["split"]["trained"] and exposure["max"] <= 5 and exposure["mean"] > 3
    by_style = manifest["rejections"]["by_style"]
    assert set(by_style) == {"textbook", "conversation", "classroom", "Q&A", "interview", "journal", "reason"}
    assert all(0.0 <= row["rate"] < 0.35 for row in by_style.values())
    assert manifest["rejections"]["by_reason"].get("foreign_number", 0) > 0
    assert manifest["eval"]["unseen"] == manifest["split"]["held_out"]
