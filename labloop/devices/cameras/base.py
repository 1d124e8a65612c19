"""The camera protocol every camera implements, and its typed errors."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np


class CameraError(RuntimeError):
    """A camera could not be opened or returned no frame; the message says what to check."""


class CameraExhausted(CameraError):
    """A finite source (a video file) has no more frames; not an outage."""


class UnreadableFrame(CameraError):
    """This one frame could not be read (a corrupt file in a folder) but the camera itself is fine: the next
    read moves on, so it is not reopened."""


@runtime_checkable
class Camera(Protocol):
    """A source of BGR uint8 frames. `read` blocks until a frame is there or raises `CameraError`."""

    spec: str

    def read(self) -> np.ndarray: ...

    def close(self) -> None: ...

    def describe(self) -> dict[str, Any]: ...


def as_bgr(image: np.ndarray, source: str) -> np.ndarray:
    """Frames are always 3-channel BGR uint8; grey or BGRA sources are converted, anything else refused."""
    import cv2

    if image is None or not isinstance(image, np.ndarray) or image.size == 0:
        raise CameraError(f"{source} returned an empty frame")
    if image.dtype != np.uint8:
        raise CameraError(f"{source} returned {image.dtype} pixels; only 8-bit images are supported")
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    raise CameraError(f"{source} returned a frame of shape {image.shape}; expected height x width x 3")
