"""Vial images rendered in the tests themselves: a textured background seen through a vial whose liquid
scatters more as `haze` rises (0 clear .. 1 milky)."""

from __future__ import annotations

import cv2
import numpy as np

SIZE = (240, 320)  # height, width
VIAL = (110, 60, 100, 150)  # x, y, w, h


def render_vial(haze: float, *, seed: int = 0, size: tuple[int, int] = SIZE, noise: float = 2.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    height, width = size
    yy, xx = np.mgrid[0:height, 0:width]
    background = 40 + 30 * ((xx // 12 + yy // 12) % 2)  # a checkerboard behind the vial
    image = np.repeat(background[..., None], 3, axis=2).astype(np.float32)
    image[..., 2] += 20  # a little colour
    x, y, w, h = VIAL
    liquid = image[y : y + h, x : x + w]
    image[y : y + h, x : x + w] = (1 - haze) * liquid + haze * 225.0
    image += rng.normal(0, noise, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def encode(image: np.ndarray, ext: str = ".png") -> bytes:
    ok, buf = cv2.imencode(ext, image)
    assert ok
    return buf.tobytes()
