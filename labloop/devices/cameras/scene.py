"""The static part of the simulated camera's picture: wall, bench, a printed grid card, the stirrer plate and
an empty glass vial. Computed once per camera; `SimCamera` composites the liquid on top of it each frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

VIAL_OUTER_MM = 28.0
VIAL_HEIGHT_MM = 60.0
LIQUID_HEIGHT_MM = 38.0
WALL_MM = 1.5
FIELD_OF_VIEW_MM = 120.0
GRID_PITCH_MM = 3.0


@dataclass
class Scene:
    """Pixels and geometry shared by every frame of one simulated camera."""

    base: np.ndarray
    """the whole picture with an empty vial (BGR uint8)"""
    liquid_roi: tuple[int, int, int, int]
    """(x, y, w, h) of the liquid inside the glass"""
    through_liquid: np.ndarray
    """what the card looks like through clear liquid, ROI-sized"""
    through_air: np.ndarray
    """what the card looks like through the empty part of the vial (for the vortex), ROI-sized"""
    milk: np.ndarray
    """the colour of fully milky liquid, ROI-sized, lit from above"""
    px_per_mm: float
    stirrer_centre_x: int


def build_scene(width: int, height: int, offset_mm: float) -> Scene:
    """Lay out the scene for a `width` x `height` picture with the vial `offset_mm` right of the stirrer centre."""
    import cv2

    s = height / FIELD_OF_VIEW_MM
    img = np.empty((height, width, 3), np.uint8)
    wall = np.linspace(150, 118, height, dtype=np.float32)[:, None]
    img[:] = np.stack([wall * 0.95, wall, wall * 1.02], axis=-1).clip(0, 255).astype(np.uint8)
    bench_y = int(height * 0.80)
    img[bench_y:] = (70, 85, 95)

    cx = width // 2
    plate_w, plate_h = int(90 * s), int(18 * s)
    plate_top = bench_y - plate_h
    vial_w, vial_h = int(VIAL_OUTER_MM * s), int(VIAL_HEIGHT_MM * s)
    vial_x = cx + int(round(offset_mm * s)) - vial_w // 2
    vial_bottom = plate_top
    vial_top = vial_bottom - vial_h
    if vial_x < 0 or vial_x + vial_w > width or vial_top < 0:
        raise ValueError(
            f"a vial offset of {offset_mm} mm puts the vial outside a {width}x{height} picture; "
            f"keep |offset| under {(width / 2 - vial_w / 2) / s:.0f} mm"
        )

    # The printed card behind the vial: a black grid with text, which milky liquid hides.
    card_x0, card_x1 = cx - int(55 * s), cx + int(55 * s)
    card_y0 = max(0, vial_top - int(12 * s))
    img[card_y0:plate_top, card_x0:card_x1] = (236, 240, 242)
    pitch, thick = GRID_PITCH_MM * s, max(1, int(round(0.35 * s)))
    for x in np.arange(card_x0, card_x1, pitch):
        cv2.line(img, (int(x), card_y0), (int(x), plate_top - 1), (40, 40, 40), thick)
    for y in np.arange(card_y0, plate_top, pitch):
        cv2.line(img, (card_x0, int(y)), (card_x1 - 1, int(y)), (40, 40, 40), thick)
    font_scale = max(0.3, s / 7.0)
    for row, y in enumerate(range(card_y0 + int(8 * s), plate_top - int(2 * s), int(7 * s))):
        cv2.putText(img, f"LABLOOP {row:02d} ABC 123", (card_x0 + int(3 * s), y), cv2.FONT_HERSHEY_SIMPLEX,
                    font_scale, (20, 20, 20), max(1, thick), cv2.LINE_AA)

    # Stirrer: a dark box with a light round plate.
    cv2.rectangle(img, (cx - plate_w // 2, plate_top), (cx + plate_w // 2, bench_y), (45, 45, 48), -1)
    cv2.ellipse(img, (cx, plate_top), (int(38 * s), int(3 * s)), 0, 0, 360, (190, 190, 195), -1)
    cv2.circle(img, (cx + plate_w // 2 - int(10 * s), plate_top + plate_h // 2), int(4 * s), (30, 30, 160), -1)

    # The glass: card seen through the glass is slightly bluish and dimmer; walls are bright edges.
    wall_px = max(2, int(WALL_MM * s))
    glass = img[vial_top:vial_bottom, vial_x:vial_x + vial_w].astype(np.float32)
    img[vial_top:vial_bottom, vial_x:vial_x + vial_w] = (glass * (0.93, 0.92, 0.90) + (8, 6, 2)).astype(np.uint8)
    cv2.rectangle(img, (vial_x, vial_top), (vial_x + vial_w - 1, vial_bottom - 1), (215, 218, 220), wall_px)
    cap_h = int(12 * s)
    cv2.rectangle(img, (vial_x - 1, vial_top - cap_h), (vial_x + vial_w, vial_top), (60, 30, 25), -1)

    liquid_top = vial_bottom - int(LIQUID_HEIGHT_MM * s)
    roi = (vial_x + wall_px, liquid_top, vial_w - 2 * wall_px, vial_bottom - wall_px - liquid_top)
    x, y, w, h = roi
    through_air = img[y:y + h, x:x + w].copy()
    through_liquid = (through_air.astype(np.float32) * (0.97, 0.95, 0.90)).astype(np.uint8)
    shade = np.linspace(1.0, 0.86, h, dtype=np.float32)[:, None, None]
    milk = (np.array([238, 241, 243], np.float32) * shade).clip(0, 255).astype(np.uint8)
    milk = np.ascontiguousarray(np.broadcast_to(milk, (h, w, 3)))
    img[y:y + h, x:x + w] = through_liquid
    return Scene(base=img, liquid_roi=roi, through_liquid=through_liquid, through_air=through_air, milk=milk,
                 px_per_mm=s, stirrer_centre_x=cx)
