"""Haze index in [0, 1] of the vial region from brightness, contrast and texture.

Relative mode compares with the run's reference frame (usually the clear start of the run): scattering
washes out contrast and texture and shifts brightness. Absolute mode (a single photo) rates how bright,
featureless and unsaturated the region is, which is what a milky liquid looks like against most backgrounds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from labloop.agents.vision.calibration import Calibration
from labloop.agents.vision.quality import OK, Quality, check_exposure, check_size
from labloop.agents.vision.roi import Roi, RoiError

WORK_SIZE = 192  # the region is downscaled to this many pixels on its long side before measuring
TEXTURE_SCALE = 3.0  # mean |Laplacian| (grey levels) of a clearly textured region at WORK_SIZE
CONTRAST_SCALE = 0.25  # grey-level std (0-1 scale) of a clearly contrasted scene


@dataclass(frozen=True)
class VialFeatures:
    """Brightness, contrast and texture of the vial region, each on a 0-1 scale; saturation of its colour."""

    brightness: float
    contrast: float
    texture: float
    saturation: float
    width: int
    height: int

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> VialFeatures:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Measurement:
    """One frame's CV result: haze and score are None when the frame failed a quality gate."""

    quality: Quality
    haze: float | None = None
    score: float | None = None
    features: VialFeatures | None = None
    mode: str = "relative"


def decode(data: bytes) -> np.ndarray | None:
    """BGR pixels of an encoded image, or None when the bytes are not a readable image."""
    if not data:
        return None
    array = np.frombuffer(data, dtype=np.uint8)
    return cv2.imdecode(array, cv2.IMREAD_COLOR)


def features_of(region: np.ndarray, frame_shape: tuple[int, ...]) -> VialFeatures:
    scale = WORK_SIZE / max(region.shape[:2])
    if scale < 1:
        region = cv2.resize(region, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(region, cv2.COLOR_BGR2GRAY).astype(np.float32) / 255.0
    blurred = cv2.GaussianBlur(gray, (3, 3), 0)
    texture = float(np.abs(cv2.Laplacian(blurred * 255.0, cv2.CV_32F)).mean()) / TEXTURE_SCALE
    hsv = cv2.cvtColor(region, cv2.COLOR_BGR2HSV)
    return VialFeatures(
        brightness=float(gray.mean()),
        contrast=float(min(1.0, gray.std() / CONTRAST_SCALE)),
        texture=float(min(1.0, texture)),
        saturation=float(hsv[..., 1].mean() / 255.0),
        width=int(frame_shape[1]),
        height=int(frame_shape[0]),
    )


def absolute_haze(f: VialFeatures) -> float:
    """Single-photo haze: bright, low-contrast, low-texture, colourless regions look milky."""
    value = 0.6 * f.brightness + 0.15 * (1 - f.contrast) + 0.1 * (1 - f.texture) + 0.15 * (1 - f.saturation)
    return float(np.clip(value, 0.0, 1.0))


def relative_haze(f: VialFeatures, ref: VialFeatures) -> float:
    """Haze against the run's reference: brightness shift (toward its limit), contrast loss, texture loss."""
    if f.brightness >= ref.brightness:
        shift = (f.brightness - ref.brightness) / max(0.05, 1.0 - ref.brightness)
    else:
        shift = (ref.brightness - f.brightness) / max(0.05, ref.brightness)
    contrast_loss = max(0.0, 1.0 - f.contrast / ref.contrast) if ref.contrast > 0.02 else 0.0
    texture_loss = max(0.0, 1.0 - f.texture / ref.texture) if ref.texture > 0.02 else 0.0
    weights = (0.5, 0.25 if ref.contrast > 0.02 else 0.0, 0.25 if ref.texture > 0.02 else 0.0)
    value = (weights[0] * min(1.0, shift) + weights[1] * contrast_loss + weights[2] * texture_loss) / sum(weights)
    return float(np.clip(value, 0.0, 1.0))


def measure_image(
    image: np.ndarray | None,
    *,
    roi: Roi | None = None,
    reference: VialFeatures | None = None,
    calibration: Calibration | None = None,
) -> Measurement:
    """Measure one decoded frame (None = undecodable). Every failure comes back as a Measurement quality."""
    if image is None or image.ndim != 3 or image.size == 0:
        return Measurement(Quality("corrupt", "the frame could not be decoded as an image"))
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    for gate in (check_exposure(gray), check_size(image.shape, _size(reference))):
        if not gate.ok:
            return Measurement(gate)
    region_roi = roi or Roi.centred(image.shape[1], image.shape[0])
    try:
        region = region_roi.crop(image)
    except RoiError as exc:
        return Measurement(Quality("roi_outside", str(exc)))
    features = features_of(region, image.shape)
    if reference is None:
        haze, mode = absolute_haze(features), "absolute"
    else:
        haze, mode = relative_haze(features, reference), "relative"
    score = (calibration or Calibration.default()).score(haze)
    return Measurement(OK, haze=round(haze, 4), score=round(score, 2), features=features, mode=mode)


def measure_frame(data: bytes, **kwargs) -> Measurement:
    """Measure an encoded frame (JPEG/PNG bytes); corrupt bytes give quality `corrupt`."""
    return measure_image(decode(data), **kwargs)


def _size(reference: VialFeatures | None) -> tuple[int, int] | None:
    return None if reference is None else (reference.width, reference.height)
