"""A camera that replays the images of a folder in name order, looping (e.g. ../shared/data/vial_photos)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from labloop.devices.cameras.base import CameraError, UnreadableFrame, as_bgr

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


class FolderCamera:
    """Each `read` returns the next image; an unreadable file raises `UnreadableFrame` naming it, and the next
    read moves on to the following file."""

    def __init__(self, folder: str | Path, *, spec: str, loop: bool = True) -> None:
        self.spec = spec
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise CameraError(f"folder camera: {self.folder} is not a folder (camera spec {spec!r})")
        self.files = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not self.files:
            raise CameraError(
                f"folder camera: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {self.folder}"
            )
        self.loop = loop
        self._index = 0

    def read(self) -> np.ndarray:
        import cv2

        if self._index >= len(self.files):
            if not self.loop:
                from labloop.devices.cameras.base import CameraExhausted

                raise CameraExhausted(f"folder camera: all {len(self.files)} images of {self.folder} were read")
            self._index = 0
        path = self.files[self._index]
        self._index += 1
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise UnreadableFrame(f"folder camera: {path} is not a readable image")
        try:
            return as_bgr(image, f"folder camera file {path.name}")
        except CameraError as exc:
            raise UnreadableFrame(str(exc)) from None

    @property
    def current_file(self) -> Path:
        """The file the last `read` returned."""
        return self.files[(self._index - 1) % len(self.files)]

    def close(self) -> None:
        self._index = 0

    def describe(self) -> dict[str, Any]:
        return {"kind": "folder", "spec": self.spec, "folder": str(self.folder), "images": len(self.files),
                "loop": self.loop}
