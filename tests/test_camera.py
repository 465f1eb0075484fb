"""The camera reader on a video file standing in for a webcam."""

from __future__ import annotations

import time

import pytest

from host.vision.camera import Camera, CameraError
from training.videos import make_video


def test_serves_the_newest_frame_and_skips_stale_ones(face_video):
    camera = Camera(str(face_video))
    try:
        first = camera.latest()
        assert first is not None and first.image.shape == (480, 640)  # grey: what the model reads
        time.sleep(0.35)  # the file plays at 10 fps: ~3 frames arrive meanwhile
        newest = camera.latest(newer_than=first.index)
        assert newest is not None and newest.index >= first.index + 2
    finally:
        camera.close()
    assert camera.closed


def test_closing_releases_the_camera_quickly(face_video):
    camera = Camera(str(face_video))
    camera.latest()
    start = time.monotonic()
    camera.close()
    assert camera.closed and time.monotonic() - start < 2.0


def test_a_video_that_is_not_looped_ends(fer_sample, tmp_path):
    short = tmp_path / "short.mp4"
    make_video(fer_sample / "val", short, faces=1, seconds=0.5)
    camera = Camera(str(short), loop_video=False)
    deadline = time.monotonic() + 5
    while not camera.ended and time.monotonic() < deadline:
        camera.latest(timeout=0.2)
    assert camera.ended
    camera.close()


def test_missing_video_file_is_named(tmp_path):
    with pytest.raises(CameraError, match=r"nothing\.mp4"):
        Camera(str(tmp_path / "nothing.mp4"))


def test_absent_device_is_a_clear_error():
    with pytest.raises(CameraError, match="cannot open camera 9"):
        Camera(9)
