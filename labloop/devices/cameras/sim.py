"""A simulated camera: a glass vial on a stirrer plate whose turbidity follows a curve over (simulated) time:
clear, onset, milky. A printed grid card behind the vial is hidden as the liquid turns milky (brighter, less
contrast and texture), so a haze index measures it. Deterministic given the seed and the clock time."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import numpy as np

from labloop.devices.cameras.base import CameraError
from labloop.devices.cameras.scene import build_scene
from labloop.devices.clock import Clock, RealClock
from labloop.devices.quantities import parse_duration, parse_length_mm


@dataclass(frozen=True)
class SimCameraParams:
    """Knobs of `sim:key=value,...`; durations accept '2h', lengths '3mm'."""

    seed: int = 0
    onset: float = 2 * 3600.0
    """seconds after the camera opens when the liquid starts to turn milky"""
    rise: float = 1.5 * 3600.0
    """seconds from onset to 95 % of the final turbidity"""
    max: float = 5.0
    """final turbidity on the 0-5 scale"""
    offset: float = 0.0
    """mm the vial sits right (+) or left (-) of the stirrer centre"""
    width: int = 1280
    height: int = 720
    noise: float = 1.0
    """lighting and sensor noise, 0 = none"""
    stir: float = 300.0
    """stirrer speed in rpm (vortex depth and bar rotation), 0 = off"""
    drop: float = 0.0
    """probability that a read fails (a simulated camera hiccup)"""
    outage: str = ""
    """'START+LENGTH', e.g. '3h+20m': every read in that window fails"""

    @classmethod
    def parse(cls, text: str) -> SimCameraParams:
        fields = {f: getattr(cls, f) for f in cls.__dataclass_fields__}
        values: dict[str, Any] = {}
        for item in filter(None, (p.strip() for p in text.split(","))):
            key, sep, value = item.partition("=")
            key = key.strip().lower()
            if not sep or key not in fields:
                raise CameraError(
                    f"sim camera: cannot read {item!r}; use key=value with keys {', '.join(fields)}"
                )
            try:
                if key in {"onset", "rise"}:
                    values[key] = parse_duration(value)
                elif key == "offset":
                    values[key] = parse_length_mm(value)
                elif key in {"seed", "width", "height"}:
                    values[key] = int(value)
                elif key == "outage":
                    _parse_outage(value)
                    values[key] = value.strip()
                else:
                    values[key] = float(value)
            except ValueError as exc:
                raise CameraError(f"sim camera: bad value for {key}: {exc}") from None
        params = cls(**values)
        params.check()
        return params

    def check(self) -> None:
        problems = []
        if not (64 <= self.width <= 8192 and 64 <= self.height <= 8192):
            problems.append(f"size {self.width}x{self.height} must be between 64 and 8192 pixels")
        if self.onset < 0 or self.rise <= 0:
            problems.append("onset must be >= 0 and rise > 0")
        if not 0 <= self.max <= 5:
            problems.append("max turbidity must be on the 0-5 scale")
        if not 0 <= self.drop <= 1:
            problems.append("drop is a probability between 0 and 1")
        if self.noise < 0 or self.stir < 0:
            problems.append("noise and stir must be >= 0")
        if problems:
            raise CameraError("sim camera: " + "; ".join(problems))


def _parse_outage(text: str) -> tuple[float, float]:
    start, sep, length = text.partition("+")
    if not sep:
        raise ValueError(f"outage {text!r} must be START+LENGTH, e.g. 3h+20m")
    return parse_duration(start), parse_duration(length)


class SimCamera:
    """Renders the vial scene at the clock's current time. `turbidity_at` is the ground truth (0-5)."""

    def __init__(self, params: SimCameraParams | None = None, *, clock: Clock | None = None, spec: str = "",
                 origin: datetime | None = None) -> None:
        self.params = params or SimCameraParams()
        self.params.check()
        self.spec = spec or "sim:" + ",".join(f"{k}={v}" for k, v in asdict(self.params).items() if v != "")
        self.clock = clock or RealClock()
        self.opened_at = origin or self.clock.now()
        """time zero of the turbidity curve; a reopened camera keeps its experiment's origin"""
        try:
            self._scene = build_scene(self.params.width, self.params.height, self.params.offset)
        except ValueError as exc:
            raise CameraError(f"sim camera: {exc}") from None
        self._outage = _parse_outage(self.params.outage) if self.params.outage else None
        rng = np.random.default_rng(self.params.seed)
        sigma = 3.0 * self.params.noise
        pad = 32
        shape = (self.params.height + pad, self.params.width + pad, 3)
        self._noise = (np.abs(rng.standard_normal(shape, dtype=np.float32)) * sigma).clip(0, 255).astype(np.uint8) \
            if sigma > 0 else None
        self._phase = float(rng.uniform(0, 2 * math.pi))
        x, y, w, h = self._scene.liquid_roi
        self._cols = np.arange(w, dtype=np.float32)[None, :]
        self._rows = np.arange(h, dtype=np.float32)[:, None]

    @property
    def onset_s(self) -> float:
        return self.params.onset

    @property
    def vial_roi(self) -> tuple[int, int, int, int]:
        """(x, y, w, h) of the liquid in the picture."""
        return self._scene.liquid_roi

    def elapsed_s(self) -> float:
        return (self.clock.now() - self.opened_at).total_seconds()

    def turbidity_at(self, elapsed_s: float) -> float:
        """Ground-truth turbidity (0 clear .. 5 milky) `elapsed_s` after the camera opened."""
        p = self.params
        if elapsed_s <= p.onset:
            return 0.0
        return p.max * (1.0 - math.exp(-3.0 * (elapsed_s - p.onset) / p.rise))

    def read(self) -> np.ndarray:
        elapsed = self.elapsed_s()
        rng = np.random.default_rng([self.params.seed, int(round(elapsed * 1000)) & 0x7FFFFFFFFFFF])
        if self._outage and self._outage[0] <= elapsed < sum(self._outage):
            raise CameraError(f"sim camera: simulated outage ({self.params.outage}) at t={elapsed:.0f} s")
        if self.params.drop and rng.random() < self.params.drop:
            raise CameraError(f"sim camera: simulated dropped frame at t={elapsed:.0f} s")
        return self.render(elapsed, rng)

    def render(self, elapsed: float, rng: np.random.Generator | None = None) -> np.ndarray:
        """The picture at `elapsed` seconds after opening."""
        import cv2

        rng = rng or np.random.default_rng([self.params.seed, int(round(elapsed * 1000)) & 0x7FFFFFFFFFFF])
        scene, p = self._scene, self.params
        frame = scene.base.copy()
        x, y, w, h = scene.liquid_roi
        liquid = scene.through_liquid.copy()
        self._draw_stir_bar(liquid, elapsed)
        m = self.turbidity_at(elapsed) / 5.0
        if m > 0.005:
            liquid = cv2.GaussianBlur(liquid, (0, 0), 0.4 + 5.0 * m)
            alpha = min(0.97, 1.08 * m**0.75)
            liquid = cv2.addWeighted(liquid, 1.0 - alpha, scene.milk, alpha, 0.0)
        if p.stir > 0:
            vortex = self._vortex_mask(elapsed)
            liquid[vortex] = (liquid[vortex] * 0.82).astype(np.uint8)
        frame[y:y + h, x:x + w] = liquid
        gain = 1.0 + 0.03 * math.sin(2 * math.pi * elapsed / 1800.0 + self._phase)
        if p.noise > 0:
            gain += float(rng.normal(0.0, 0.008 * p.noise))
            frame = cv2.convertScaleAbs(frame, alpha=gain, beta=float(rng.normal(0.0, 1.5 * p.noise)))
            frame = self._add_sensor_noise(frame, rng)
        else:
            frame = cv2.convertScaleAbs(frame, alpha=gain)
        return frame

    def _add_sensor_noise(self, frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        import cv2

        hgt, wid = frame.shape[:2]
        oy, ox, qy, qx = (int(v) for v in rng.integers(0, 32, 4))
        cv2.add(frame, self._noise[oy:oy + hgt, ox:ox + wid], dst=frame)
        cv2.subtract(frame, self._noise[qy:qy + hgt, qx:qx + wid], dst=frame)
        return frame

    def _draw_stir_bar(self, liquid: np.ndarray, elapsed: float) -> None:
        import cv2

        h, w = liquid.shape[:2]
        s = self._scene.px_per_mm
        angle = 2 * math.pi * self.params.stir / 60.0 * elapsed
        half = max(2, int(abs(math.cos(angle)) * 8 * s + 2 * s))
        cy, cx = h - int(2.5 * s), w // 2
        cv2.line(liquid, (cx - half, cy), (cx + half, cy), (235, 235, 235), max(2, int(3 * s)), cv2.LINE_AA)

    def _vortex_mask(self, elapsed: float) -> np.ndarray:
        h, w = self._scene.through_air.shape[:2]
        s = self._scene.px_per_mm
        depth = min(h * 0.45, self.params.stir / 300.0 * 7 * s) * (1 + 0.08 * math.sin(elapsed * 3.1))
        radius = w * 0.42
        profile = depth * np.clip(1.0 - ((self._cols - w / 2) / radius) ** 2, 0, None)
        return self._rows < profile

    def close(self) -> None:
        """Nothing to release."""

    def describe(self) -> dict[str, Any]:
        return {"kind": "sim", "spec": self.spec, **asdict(self.params), "vial_roi": list(self.vial_roi),
                "opened_at": self.opened_at.isoformat()}
