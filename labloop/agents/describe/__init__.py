"""The vision model's look at a frame: request (crops + low-res frame, JSON schema) and strict validation."""

from labloop.agents.describe.answer import AnswerInvalid, VisionAnswer, parse_answer
from labloop.agents.describe.request import DescribeInput, DescribeResult, VisionDescriber

__all__ = ["AnswerInvalid", "DescribeInput", "DescribeResult", "VisionAnswer", "VisionDescriber", "parse_answer"]
