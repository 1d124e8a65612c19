"""OpenCV `VideoCapture` cameras: a device index ("0"), a video file ("file:run.mp4") or a stream URL."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from labloop.devices.cameras.base import CameraError, CameraExhausted, as_bgr

log = logging.getLogger(__name__)


class VideoCamera:
    """Wraps `cv2.VideoCapture`; a read that returns nothing raises `CameraError` (or `CameraExhausted` at the
    end of a file) instead of handing back `None`."""

    def __init__(self, source: int | str, *, spec: str) -> None:
        import cv2

        self.spec = spec
        self._source = source
        self._is_file = isinstance(source, str) and "://" not in source
        if self._is_file and not Path(source).is_file():
            raise CameraError(f"video file {source} does not exist (camera spec {spec!r})")
        self._cap = cv2.VideoCapture(source)
        if not self._cap.isOpened():
            self._cap.release()
            hint = (
                "is it plugged in and not used by another program?" if isinstance(source, int)
                else "is the file a video OpenCV can decode?" if self._is_file
                else "is the stream URL reachable?"
            )
            raise CameraError(f"cannot open camera {spec!r}: {hint}")
        log.info("opened camera %s", spec)

    def read(self) -> np.ndarray:
        import cv2

        ok, frame = self._cap.read()
        if not ok or frame is None:
            if self._is_file:
                total = self._cap.get(cv2.CAP_PROP_FRAME_COUNT)
                pos = self._cap.get(cv2.CAP_PROP_POS_FRAMES)
                if total <= 0 or pos >= total:
                    raise CameraExhausted(f"video file {self._source} has no more frames")
            raise CameraError(f"camera {self.spec!r} returned no frame")
        return as_bgr(frame, f"camera {self.spec!r}")

    def close(self) -> None:
        self._cap.release()

    def describe(self) -> dict[str, Any]:
        import cv2

        return {
            "kind": "file" if self._is_file else "device" if isinstance(self._source, int) else "stream",
            "spec": self.spec,
            "width": int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            "height": int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            "fps": float(self._cap.get(cv2.CAP_PROP_FPS)),
        }
