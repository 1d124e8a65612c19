"""Opening a camera from its spec string: `0`, `file:run.mp4`, `rtsp://...`, `folder:DIR`, `sim:seed=1,...`."""

from __future__ import annotations

from datetime import datetime

from labloop.devices.cameras.base import Camera, CameraError
from labloop.devices.clock import Clock

SPEC_HELP = (
    "use a device index ('0'), 'file:PATH' (a video), a stream URL ('rtsp://...', 'http://...'), "
    "'folder:DIR' (replay images) or 'sim:seed=1,onset=2h,offset=3mm' (simulated vial)"
)


def open_camera(spec: str, *, clock: Clock | None = None, origin: datetime | None = None) -> Camera:
    """The camera a spec names; `CameraError` with a hint when the spec is malformed or the camera is absent.
    `origin` is time zero of a simulated camera (so a reopened one continues the same experiment)."""
    text = (spec or "").strip()
    if not text:
        raise CameraError(f"empty camera spec: {SPEC_HELP}")
    kind, sep, rest = text.partition(":")
    if text.isdigit():
        from labloop.devices.cameras.video import VideoCamera

        return VideoCamera(int(text), spec=text)
    if sep and kind == "sim":
        from labloop.devices.cameras.sim import SimCamera, SimCameraParams

        return SimCamera(SimCameraParams.parse(rest), clock=clock, spec=text, origin=origin)
    if sep and kind == "folder":
        from labloop.devices.cameras.folder import FolderCamera

        if not rest:
            raise CameraError(f"camera spec {text!r} names no folder: {SPEC_HELP}")
        return FolderCamera(rest, spec=text)
    if sep and kind == "file":
        from labloop.devices.cameras.video import VideoCamera

        if not rest:
            raise CameraError(f"camera spec {text!r} names no file: {SPEC_HELP}")
        return VideoCamera(rest, spec=text)
    if sep and kind.lower() in {"rtsp", "rtmp", "http", "https"} and rest.startswith("//"):
        from labloop.devices.cameras.video import VideoCamera

        return VideoCamera(text, spec=text)
    raise CameraError(f"unknown camera spec {text!r}: {SPEC_HELP}")
