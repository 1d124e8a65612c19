"""Frame quality gates: a frame that cannot be measured gets a recorded reason instead of a number."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BLACK_MEAN = 8.0
BLACK_STD = 4.0
SATURATED_LEVEL = 250
OVEREXPOSED_SHARE = 0.9


@dataclass(frozen=True)
class Quality:
    code: str
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.code == "ok"

    def __str__(self) -> str:
        return self.code if not self.detail else f"{self.code}: {self.detail}"


OK = Quality("ok")


def check_exposure(gray: np.ndarray) -> Quality:
    """Black (lens cap, lights off) and overexposed (saturated) frames carry no turbidity information."""
    mean, std = float(gray.mean()), float(gray.std())
    if mean < BLACK_MEAN and std < BLACK_STD:
        return Quality("black", f"mean brightness {mean:.1f} of 255: lights off or lens covered?")
    saturated = float((gray >= SATURATED_LEVEL).mean())
    if saturated > OVEREXPOSED_SHARE:
        return Quality("overexposed", f"{saturated:.0%} of pixels saturated: reduce exposure or lighting")
    return OK


def check_size(shape: tuple[int, ...], reference_size: tuple[int, int] | None) -> Quality:
    """Relative haze compares like with like: a frame of another size than the run's reference is refused."""
    if reference_size is None:
        return OK
    width, height = shape[1], shape[0]
    if (width, height) != tuple(reference_size):
        ref_w, ref_h = reference_size
        return Quality("wrong_size", f"frame is {width}x{height}, the run's reference frame is {ref_w}x{ref_h}")
    return OK
