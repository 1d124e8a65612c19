"""Cameras: the simulated vial (deterministic, measurable turbidity), folder replay, video files, bad specs."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from labloop.devices.cameras import CameraError, CameraExhausted, SimCamera, open_camera
from labloop.devices.clock import SimClock


def _haze(camera: SimCamera, image: np.ndarray) -> tuple[float, float]:
    x, y, w, h = camera.vial_roi
    grey = cv2.cvtColor(image[y:y + h, x:x + w], cv2.COLOR_BGR2GRAY)
    return float(grey.mean()), float(cv2.Laplacian(grey, cv2.CV_64F).var())


def test_sim_camera_is_deterministic_given_seed_and_time() -> None:
    a = open_camera("sim:seed=3,onset=1h", clock=SimClock())
    b = open_camera("sim:seed=3,onset=1h", clock=SimClock())
    c = open_camera("sim:seed=4,onset=1h", clock=SimClock())
    assert np.array_equal(a.read(), b.read())
    assert not np.array_equal(a.read(), c.read())
    a.clock.sleep(60)
    assert not np.array_equal(a.read(), b.read())
    frame = a.read()
    assert frame.dtype == np.uint8 and frame.shape == (720, 1280, 3)


def test_turbidity_curve_and_its_visible_effect() -> None:
    clock = SimClock()
    cam = open_camera("sim:seed=1,onset=2h,rise=1h,width=640,height=360", clock=clock)
    assert isinstance(cam, SimCamera) and cam.onset_s == 7200
    times = [0, 3600, 7200, 7200 + 900, 7200 + 1800, 7200 + 3600, 12 * 3600]
    truth = [cam.turbidity_at(t) for t in times]
    assert truth[:3] == [0, 0, 0] and truth[-1] == pytest.approx(5, abs=0.01)
    assert all(b >= a for a, b in zip(truth, truth[1:]))
    hazes = [_haze(cam, cam.render(t)) for t in times]
    brightness, texture = [h[0] for h in hazes], [h[1] for h in hazes]
    assert brightness[-1] > brightness[0] + 25  # milky is brighter
    assert texture[-1] < texture[0] / 10  # and hides the printed grid behind the vial
    assert texture[3] < texture[2] and brightness[3] > brightness[2]  # already visible 15 min after onset


def test_offset_moves_the_vial_and_absurd_offsets_are_refused() -> None:
    centre = open_camera("sim:offset=0mm")
    right = open_camera("sim:offset=1cm")
    assert right.vial_roi[0] - centre.vial_roi[0] == pytest.approx(10 * 720 / 120, abs=1)
    with pytest.raises(CameraError, match="outside"):
        open_camera("sim:offset=500mm")


def test_outage_and_drops_raise_camera_errors() -> None:
    clock = SimClock()
    cam = open_camera("sim:outage=1h+10m,width=320,height=240", clock=clock)
    cam.read()
    clock.sleep(3600)
    with pytest.raises(CameraError, match="outage"):
        cam.read()
    clock.sleep(600)
    cam.read()
    always = open_camera("sim:drop=1,width=320,height=240", clock=clock)
    with pytest.raises(CameraError, match="dropped"):
        always.read()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty camera spec"),
        ("webcam", "unknown camera spec"),
        ("sim:seed=x", "bad value for seed"),
        ("sim:colour=red", "use key=value"),
        ("sim:onset", "use key=value"),
        ("sim:width=10", "between 64 and 8192"),
        ("sim:onset=2 fortnights", "unknown unit"),
        ("sim:max=9", "0-5 scale"),
        ("sim:outage=3h", r"START\+LENGTH"),
        ("folder:", "names no folder"),
        ("folder:/no/such/dir", "is not a folder"),
        ("file:/no/such.mp4", "does not exist"),
    ],
)
def test_bad_specs_are_refused_clearly(spec: str, message: str) -> None:
    with pytest.raises(CameraError, match=message):
        open_camera(spec)


def test_folder_camera_replays_and_skips_unreadable_files(tmp_path: Path) -> None:
    sim = open_camera("sim:width=160,height=120")
    cv2.imwrite(str(tmp_path / "a.png"), sim.read())
    cv2.imwrite(str(tmp_path / "c.jpg"), cv2.cvtColor(sim.read(), cv2.COLOR_BGR2GRAY))
    (tmp_path / "b.jpg").write_bytes(b"not really a jpeg")
    (tmp_path / "notes.txt").write_text("ignored")
    cam = open_camera(f"folder:{tmp_path}")
    assert cam.describe()["images"] == 3
    assert cam.read().shape == (120, 160, 3)
    with pytest.raises(CameraError, match="b.jpg is not a readable image"):
        cam.read()
    assert cam.read().shape == (120, 160, 3)  # grey image converted to BGR
    assert cam.read().shape == (120, 160, 3)  # loops back to a.png
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CameraError, match="no images"):
        open_camera(f"folder:{empty}")


def test_folder_camera_on_real_vial_photos(shared_data: Path) -> None:
    cam = open_camera(f"folder:{shared_data / 'vial_photos'}")
    assert cam.describe()["images"] >= 30
    for _ in range(cam.describe()["images"]):
        frame = cam.read()
        assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8


def test_video_file_camera_ends_with_exhausted(tmp_path: Path) -> None:
    path = tmp_path / "run.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 5, (160, 120))
    sim = open_camera("sim:width=160,height=120")
    for _ in range(3):
        writer.write(sim.read())
    writer.release()
    cam = open_camera(f"file:{path}")
    assert cam.describe()["kind"] == "file"
    frames = [cam.read() for _ in range(3)]
    assert all(f.shape == (120, 160, 3) for f in frames)
    with pytest.raises(CameraExhausted):
        cam.read()
    cam.close()
    (tmp_path / "junk.mp4").write_bytes(b"\x00" * 100)
    with pytest.raises(CameraError, match="cannot open camera"):
        open_camera(f"file:{tmp_path / 'junk.mp4'}")


def test_missing_device_index_is_reported() -> None:
    with pytest.raises(CameraError, match="cannot open camera '57'"):
        open_camera("57")
