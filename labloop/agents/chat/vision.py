"""Let the chat look at a stored frame: a downscaled JPEG sent to the vision model; the answer carries its model."""

from __future__ import annotations

import base64
import time

import cv2
import numpy as np
import openai

from labloop.agents.chat.context import ChatContext
from labloop.agents.chat.toolbox import ToolFailure
from labloop.agents.llm_client import make_client
from labloop.knowledge_base.frame_store import FrameStore
from labloop.knowledge_base.models import Frame


MAX_SIDE_PX = 512


def downscaled_jpeg(data: bytes, max_side: int = MAX_SIDE_PX) -> bytes:
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ToolFailure("the frame file is not a readable image")
    scale = min(1.0, max_side / max(img.shape[:2]))
    if scale < 1.0:
        img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise ToolFailure("could not encode the frame as JPEG")
    return buf.tobytes()


def describe_frame(ctx: ChatContext, frame: Frame, question: str) -> dict[str, object]:
    """Ask the vision model about one frame; returns its text with model, endpoint, frame hash and latency."""
    model = ctx.settings.effective_vision_model
    if not model:
        raise ToolFailure("no vision model is configured (LABLOOP_VISION_MODEL or LABLOOP_LLM_MODEL)")
    try:
        data = FrameStore(ctx.frames_dir).read(frame.path)
    except (OSError, ValueError) as exc:
        raise ToolFailure(f"frame:{frame.id} file is not available: {exc}") from None
    url = "data:image/jpeg;base64," + base64.b64encode(downscaled_jpeg(data)).decode()
    client = make_client(ctx.settings, feature="looking at a frame")
    start = time.perf_counter()
    try:
        reply = client.chat.completions.create(model=model, messages=[{"role": "user", "content": [
            {"type": "text", "text": question}, {"type": "image_url", "image_url": {"url": url}}]}])
    except openai.OpenAIError as exc:
        raise ToolFailure(f"the vision model failed: {exc}") from None
    text = (reply.choices[0].message.content or "").strip() if reply.choices else ""
    return {"text": text, "model": model, "endpoint": ctx.settings.llm_base_url, "frame_sha256": frame.sha256,
            "latency_ms": round((time.perf_counter() - start) * 1000, 1), "source": "llm (vision model)"}
