"""CV turbidity on synthetic vials and on real photographs; every unmeasurable frame is a recorded quality."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from labloop.agents.vision import Calibration, Roi, RoiError, measure_frame, measure_image
from tests.agents.synthetic import VIAL, encode, render_vial

ROI = Roi(*VIAL)


def test_relative_haze_rises_with_turbidity_and_is_near_zero_for_the_reference() -> None:
    reference = measure_image(render_vial(0.0, seed=1), roi=ROI).features
    hazes = [measure_image(render_vial(level, seed=2), roi=ROI, reference=reference).haze
             for level in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)]
    assert hazes[0] < 0.05
    assert all(b > a for a, b in zip(hazes, hazes[1:])), hazes
    assert hazes[-1] > 0.8


def test_absolute_mode_scores_milky_above_clear() -> None:
    clear = measure_image(render_vial(0.0), roi=ROI)
    milky = measure_image(render_vial(1.0), roi=ROI)
    assert clear.mode == milky.mode == "absolute"
    assert milky.score > clear.score + 1.5


@pytest.mark.parametrize(
    ("name", "clear_roi", "milky_roi"),
    [
        ("png__Day_1_12wpct_Proglyde_DMM.jpg", "560,400,560,400", "560,960,560,400"),
        ("test_images1__6493_5wt_dmm_9day_RT.jpg", "560,480,560,400", "560,1000,560,400"),
    ],
)
def test_real_photos_milky_layer_scores_above_clear_layer(shared_data, name, clear_roi, milky_roi) -> None:
    data = (shared_data / "vial_photos" / name).read_bytes()
    clear = measure_frame(data, roi=Roi.parse(clear_roi))
    milky = measure_frame(data, roi=Roi.parse(milky_roi))
    assert clear.quality.ok and milky.quality.ok
    assert milky.haze > clear.haze + 0.3
    assert milky.score > clear.score + 1.5


def test_real_photo_whole_frame_default_roi_is_measured(shared_data) -> None:
    data = (shared_data / "vial_photos" / "png__PS_10BA_1.jpg").read_bytes()
    result = measure_frame(data)
    assert result.quality.ok and 0 <= result.haze <= 1 and 0 <= result.score <= 5


@pytest.mark.parametrize(
    ("image", "code"),
    [
        (np.zeros((240, 320, 3), np.uint8), "black"),
        (np.full((240, 320, 3), 255, np.uint8), "overexposed"),
    ],
)
def test_black_and_overexposed_frames_are_recorded_not_measured(image, code) -> None:
    result = measure_image(image, roi=ROI)
    assert result.quality.code == code and result.haze is None and result.score is None
    assert result.quality.detail


@pytest.mark.parametrize("data", [b"", b"\xff\xd8\xff\xe0 truncated jpeg", b"GIF89a nonsense", b"\x00" * 1000])
def test_corrupt_bytes_are_recorded_as_corrupt(data) -> None:
    result = measure_frame(data, roi=ROI)
    assert result.quality.code == "corrupt" and result.haze is None


def test_truncated_real_jpeg_is_corrupt_or_measured_never_raises() -> None:
    data = encode(render_vial(0.3), ".jpg")
    result = measure_frame(data[: len(data) // 3], roi=ROI)
    assert result.quality.code in {"corrupt", "ok"}


def test_wrong_size_frame_against_the_reference_is_refused() -> None:
    reference = measure_image(render_vial(0.0), roi=ROI).features
    small = cv2.resize(render_vial(0.5), (160, 120))
    result = measure_image(small, roi=Roi(10, 10, 50, 50), reference=reference)
    assert result.quality.code == "wrong_size" and "320x240" in result.quality.detail


def test_roi_outside_the_frame_is_recorded() -> None:
    result = measure_image(render_vial(0.5), roi=Roi(300, 200, 100, 100))
    assert result.quality.code == "roi_outside" and "--roi" in result.quality.detail


@pytest.mark.parametrize("text", ["1,2,3", "a,b,c,d", "-1,0,5,5", "0,0,0,5", "", "1,2,3,4,5", "1.5,2,3,4"])
def test_malformed_roi_text_is_a_clear_error(text) -> None:
    with pytest.raises(RoiError, match="x,y"):
        Roi.parse(text)


def test_calibration_default_is_linear_and_clipped() -> None:
    cal = Calibration.default()
    assert cal.score(0.0) == 0 and cal.score(0.5) == pytest.approx(2.5) and cal.score(1.7) == 5


def test_calibration_fits_human_labels_monotonically() -> None:
    pairs = [(0.1, 0.0), (0.2, 1.0), (0.3, 0.5), (0.5, 4.0), (0.7, 5.0), (0.9, 5.0)]
    cal = Calibration.fit(pairs)
    assert cal.n_labels == 6 and "isotonic" in cal.source
    grid = [cal.score(h / 100) for h in range(0, 101)]
    assert all(b >= a for a, b in zip(grid, grid[1:]))
    assert cal.score(0.5) == pytest.approx(4.0)
    assert cal.score(0.25) == pytest.approx(0.75)  # the violating pair was pooled


@pytest.mark.parametrize("pairs", [[], [(0.2, 1.0)], [(0.3, 1.0), (0.3, 2.0), (0.3, 3.0)]])
def test_calibration_needs_enough_distinct_labels(pairs) -> None:
    assert Calibration.fit(pairs) == Calibration.default()


def test_calibration_clips_labels_out_of_range() -> None:
    cal = Calibration.fit([(0.1, -3), (0.5, 2), (0.9, 12)])
    assert cal.score(0.0) == 0 and cal.score(1.0) == 5


def test_cli_vision_turbidity_json_and_errors(tmp_path) -> None:
    import json
    import subprocess
    import sys

    clear, milky = tmp_path / "clear.png", tmp_path / "milky.png"
    clear.write_bytes(encode(render_vial(0.0)))
    milky.write_bytes(encode(render_vial(0.8)))
    run = lambda *a: subprocess.run([sys.executable, "-m", "labloop", "vision", "turbidity", *a],  # noqa: E731
                                    capture_output=True, text=True)
    out = run(str(milky), "--roi", ROI.as_text(), "--reference", str(clear), "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert set(result) == {"haze", "score"} and result["haze"] > 0.6
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 broken")
    for args, message in [((str(bad),), "corrupt"), ((str(milky), "--roi", "0,0,9999,10"), "outside"),
                          ((str(milky), "--roi", "x"), "x,y,w,h"), ((str(tmp_path / "nope.png"),), "cannot read")]:
        out = run(*args)
        assert out.returncode == 1 and message in out.stderr and "Traceback" not in out.stderr
