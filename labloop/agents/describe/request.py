"""Ask the vision model about one frame: downscaled vial crop + low-resolution full frame, a JSON schema,
bounded retries, provenance of every attempt."""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field

import cv2
import numpy as np

from labloop.agents.describe.answer import RESPONSE_FORMAT, AnswerInvalid, VisionAnswer, parse_answer
from labloop.agents.llm_call import ChatReply, call_chat, template_hash
from labloop.agents.llm_client import LLMNotConfigured, make_client
from labloop.agents.observer.prompts import VISION_SYSTEM, VISION_USER
from labloop.agents.vision.roi import Roi, RoiError
from labloop.config import Settings
from labloop.knowledge_base.observations import Provenance

CROP_MAX_PX = 384
FULL_MAX_PX = 256


@dataclass(frozen=True)
class DescribeInput:
    image: np.ndarray
    frame_sha256: str
    elapsed_s: float
    roi: Roi | None = None


@dataclass
class DescribeResult:
    status: str  # ok | failed
    answer: VisionAnswer | None
    error: str | None
    provenance: Provenance
    attempts: int = 0
    replies: list[ChatReply] = field(default_factory=list)


class VisionDescriber:
    """Talks to the configured vision model; `describe` retries invalid answers `max_retries` times."""

    def __init__(self, settings: Settings, *, timeout_s: float | None = None, max_retries: int | None = None) -> None:
        model = settings.effective_vision_model
        if not settings.llm_configured or not model:
            raise LLMNotConfigured("describing frames with a vision model")
        self.model = model
        self.endpoint = settings.llm_base_url
        self.max_retries = settings.llm_max_retries if max_retries is None else max_retries
        self.client = make_client(settings, timeout_s=timeout_s, feature="the vision observer")
        self.prompt_hash = template_hash(VISION_SYSTEM, VISION_USER, str(RESPONSE_FORMAT))

    def request(self, item: DescribeInput) -> ChatReply:
        """One attempt; never raises for endpoint trouble."""
        content = [{"type": "text", "text": VISION_USER.format(elapsed=_elapsed(item.elapsed_s))}]
        for image in _images(item):
            content.append({"type": "image_url", "image_url": {"url": image, "detail": "low"}})
        messages = [{"role": "system", "content": VISION_SYSTEM}, {"role": "user", "content": content}]
        return call_chat(self.client, model=self.model, messages=messages, response_format=RESPONSE_FORMAT)

    def provenance(self, frame_sha256: str, replies: list[ChatReply]) -> Provenance:
        """Provenance of an answer: latency and tokens summed over every attempt it took."""
        return Provenance(
            source="llm", model=self.model, endpoint=self.endpoint, prompt_hash=self.prompt_hash,
            input_hashes=[frame_sha256], latency_ms=round(sum(r.latency_ms for r in replies), 1),
            prompt_tokens=sum(r.prompt_tokens for r in replies), completion_tokens=sum(r.completion_tokens for r in replies),
        )

    def describe(self, item: DescribeInput) -> DescribeResult:
        """Request and validate, up to 1 + max_retries attempts; the last error is kept when all fail."""
        replies: list[ChatReply] = []
        error = "not attempted"
        for _ in range(1 + self.max_retries):
            reply = self.request(item)
            replies.append(reply)
            answer, error = check_reply(reply)
            if answer is not None:
                return DescribeResult("ok", answer, None, self.provenance(item.frame_sha256, replies), len(replies), replies)
        return DescribeResult("failed", None, error, self.provenance(item.frame_sha256, replies), len(replies), replies)


def check_reply(reply: ChatReply) -> tuple[VisionAnswer | None, str | None]:
    """(answer, None) for a valid reply, else (None, why it was rejected)."""
    if not reply.ok:
        return None, reply.error
    try:
        return parse_answer(reply.content), None
    except AnswerInvalid as exc:
        return None, str(exc)


def _images(item: DescribeInput) -> list[str]:
    urls = []
    if item.roi is not None:
        try:
            urls.append(_data_url(item.roi.crop(item.image), CROP_MAX_PX))
        except RoiError:
            pass
    urls.append(_data_url(item.image, FULL_MAX_PX))
    return urls


def _data_url(image: np.ndarray, max_px: int) -> str:
    scale = max_px / max(image.shape[:2])
    if scale < 1:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise ValueError("could not encode the frame as JPEG")
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode()


def _elapsed(seconds: float) -> str:
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours} h {rest // 60:02d} min"
