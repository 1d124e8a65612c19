"""The vial region of a frame: parsed from `x,y,w,h`, checked against the frame, or a centred default."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class RoiError(ValueError):
    """A vial region that cannot be used (malformed, empty, or outside the frame)."""


@dataclass(frozen=True)
class Roi:
    x: int
    y: int
    w: int
    h: int

    @classmethod
    def parse(cls, text: str) -> Roi:
        """Parse `x,y,w,h` in pixels, e.g. `120,80,200,300`."""
        parts = [p.strip() for p in str(text).split(",")]
        if len(parts) != 4:
            raise RoiError(f"vial region {text!r} must be four integers x,y,w,h (pixels), e.g. 120,80,200,300")
        try:
            x, y, w, h = (int(p) for p in parts)
        except ValueError:
            raise RoiError(f"vial region {text!r} must be four integers x,y,w,h (pixels)") from None
        if w <= 0 or h <= 0 or x < 0 or y < 0:
            raise RoiError(f"vial region {text!r} needs x,y >= 0 and a positive width and height")
        return cls(x, y, w, h)

    @classmethod
    def centred(cls, width: int, height: int, fraction: float = 0.5) -> Roi:
        """The middle `fraction` of the frame: used when no region is configured."""
        w, h = max(1, int(width * fraction)), max(1, int(height * fraction))
        return cls((width - w) // 2, (height - h) // 2, w, h)

    def as_text(self) -> str:
        return f"{self.x},{self.y},{self.w},{self.h}"

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y + self.h / 2)

    def crop(self, image: np.ndarray) -> np.ndarray:
        """The region's pixels; a region reaching outside the frame is an error, not a silent clip."""
        height, width = image.shape[:2]
        if self.x + self.w > width or self.y + self.h > height:
            raise RoiError(
                f"vial region {self.as_text()} reaches outside the {width}x{height} frame; "
                "check the camera's configured region (--roi x,y,w,h)"
            )
        return image[self.y : self.y + self.h, self.x : self.x + self.w]
