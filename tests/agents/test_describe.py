"""The vision describer against a real HTTP server speaking the OpenAI protocol: valid answers, malformed
ones, HTTP errors and timeouts; invalid answers are retried a bounded number of times, never guessed."""

from __future__ import annotations

import hashlib

import pytest

from labloop.agents.describe import AnswerInvalid, DescribeInput, VisionDescriber, parse_answer
from labloop.agents.llm_client import LLMNotConfigured
from labloop.agents.vision import Roi
from labloop.config import Settings
from tests.agents.synthetic import VIAL, render_vial
from tests.support.openai_server import Reply

VALID = {"note": "Clear, colourless solution; stir bar visible.", "turbidity": 0.5, "confidence": 0.8, "events": []}


def _settings(settings: Settings, server, **extra) -> Settings:
    return settings.model_copy(update={"llm_base_url": server.base_url, "llm_model": "scripted-vision", **extra})


def _item() -> DescribeInput:
    image = render_vial(0.2)
    return DescribeInput(image=image, frame_sha256=hashlib.sha256(image.tobytes()).hexdigest(), elapsed_s=5400,
                         roi=Roi(*VIAL))


def test_valid_answer_with_provenance_and_images(settings, openai_server) -> None:
    openai_server.enqueue(Reply.json(VALID))
    describer = VisionDescriber(_settings(settings, openai_server))
    result = describer.describe(_item())
    assert result.status == "ok" and result.answer.turbidity == 0.5 and result.attempts == 1
    prov = result.provenance
    assert prov.source == "llm" and prov.model == "scripted-vision" and prov.endpoint == openai_server.base_url
    assert prov.input_hashes == [_item().frame_sha256] and len(prov.prompt_hash) == 16
    assert prov.prompt_tokens > 0 and prov.completion_tokens > 0 and prov.latency_ms > 0
    request = openai_server.requests[0]
    assert request["response_format"]["type"] == "json_schema"
    images = [p for p in request["messages"][1]["content"] if p["type"] == "image_url"]
    assert len(images) == 2 and all(p["image_url"]["url"].startswith("data:image/jpeg;base64,") for p in images)
    assert "1 h 30 min" in request["messages"][1]["content"][0]["text"]


@pytest.mark.parametrize(
    "bad",
    [
        Reply.json({**VALID, "turbidity": "high"}),
        Reply.json({**VALID, "turbidity": 7}),
        Reply.json({**VALID, "turbidity": -1}),
        Reply.json({k: v for k, v in VALID.items() if k != "turbidity"}),
        Reply.json({**VALID, "turbidity": True}),
        Reply.json({**VALID, "confidence": 1.5}),
        Reply.json({**VALID, "extra": 1}),
        Reply.json([VALID]),
        Reply.text("The vial looks slightly hazy, I would say about 2 out of 5."),
        Reply.text(""),
        Reply.error(500),
        Reply.error(429, "rate limited"),
        Reply.garbage(),
    ],
)
def test_bad_answers_are_retried_then_recorded_as_failed(settings, openai_server, bad) -> None:
    openai_server.handler = lambda request: bad
    result = VisionDescriber(_settings(settings, openai_server, llm_max_retries=2)).describe(_item())
    assert result.status == "failed" and result.answer is None and result.error
    assert result.attempts == 3 and len(openai_server.requests) == 3
    assert result.provenance.model == "scripted-vision"


def test_a_retry_recovers_after_a_malformed_answer(settings, openai_server) -> None:
    openai_server.enqueue(Reply.json({**VALID, "turbidity": "high"}), Reply.error(500), Reply.json(VALID))
    result = VisionDescriber(_settings(settings, openai_server, llm_max_retries=2)).describe(_item())
    assert result.status == "ok" and result.attempts == 3


def test_timeout_is_a_recorded_failure(settings, openai_server) -> None:
    openai_server.handler = lambda request: Reply.json(VALID, delay_s=1.5)
    describer = VisionDescriber(_settings(settings, openai_server, llm_max_retries=1), timeout_s=0.3)
    result = describer.describe(_item())
    assert result.status == "failed" and "timeout" in result.error and result.attempts == 2


def test_unreachable_endpoint_is_a_recorded_failure(settings) -> None:
    cfg = settings.model_copy(update={"llm_base_url": "http://127.0.0.1:9/v1", "llm_model": "m", "llm_max_retries": 0})
    result = VisionDescriber(cfg).describe(_item())
    assert result.status == "failed" and "cannot reach" in result.error


def test_no_endpoint_configured_says_how_to_configure(settings) -> None:
    with pytest.raises(LLMNotConfigured, match="LABLOOP_LLM_BASE_URL"):
        VisionDescriber(settings)


def test_fenced_json_is_accepted_and_prose_is_not() -> None:
    assert parse_answer("```json\n" + '{"note": "x", "turbidity": 2, "confidence": 0.5, "events": []}' + "\n```").turbidity == 2
    with pytest.raises(AnswerInvalid, match="not JSON"):
        parse_answer("turbidity: 2")
    with pytest.raises(AnswerInvalid, match="turbidity"):
        parse_answer('{"note": "x", "turbidity": "2", "confidence": 0.5, "events": []}')
