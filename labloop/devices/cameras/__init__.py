"""Cameras: OpenCV devices/files/streams, a folder of images, and a simulated vial. Open one with `open_camera`."""

from labloop.devices.cameras.base import Camera, CameraError, CameraExhausted, UnreadableFrame
from labloop.devices.cameras.factory import SPEC_HELP, open_camera
from labloop.devices.cameras.sim import SimCamera, SimCameraParams

__all__ = ["SPEC_HELP", "Camera", "CameraError", "CameraExhausted", "SimCamera", "SimCameraParams", "UnreadableFrame",
           "open_camera"]
