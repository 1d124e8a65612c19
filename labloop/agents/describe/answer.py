"""The JSON object the vision model must return, and its strict validation: a score is a number in 0-5,
never a word, never guessed."""

from __future__ import annotations

import json
import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

ANSWER_SCHEMA = {
    "type": "object",
    "properties": {
        "note": {"type": "string", "description": "What the vial looks like now, in one or two sentences."},
        "turbidity": {"type": "number", "minimum": 0, "maximum": 5, "description": "0 clear .. 5 opaque"},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "events": {"type": "array", "items": {"type": "string"}, "description": "Notable events, may be empty."},
    },
    "required": ["note", "turbidity", "confidence", "events"],
    "additionalProperties": False,
}

RESPONSE_FORMAT = {"type": "json_schema", "json_schema": {"name": "vial_observation", "strict": True,
                                                          "schema": ANSWER_SCHEMA}}

_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


class AnswerInvalid(ValueError):
    """The model's answer is not a valid observation; the message says what was wrong."""


class VisionAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    note: Annotated[str, Field(min_length=1, max_length=2000)]
    turbidity: Annotated[float, Field(ge=0, le=5)]
    confidence: Annotated[float, Field(ge=0, le=1)]
    events: Annotated[list[Annotated[str, Field(max_length=300)]], Field(max_length=10)]


def parse_answer(content: str | None) -> VisionAnswer:
    """Validate the model's text as a VisionAnswer (a fenced ```json block is accepted, prose is not)."""
    if not content or not content.strip():
        raise AnswerInvalid("empty answer")
    text = content.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise AnswerInvalid(f"answer is not JSON: {text[:80]!r}") from None
    if not isinstance(data, dict):
        raise AnswerInvalid(f"answer is JSON but not an object: {text[:80]!r}")
    try:
        return VisionAnswer.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}" for e in exc.errors())
        raise AnswerInvalid(f"answer does not match the schema ({problems})") from None
