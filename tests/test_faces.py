"""The face finder on real faces (FER-2013 samples placed into webcam-sized frames)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from host.vision.faces import CROP_SIZE, Box, FaceFinder, crop_face
from training.data import image_files, read_gray

FRAME_H, FRAME_W = 480, 640
FACE_PX = 160


def place(face: np.ndarray, center: tuple[int, int], size: int = FACE_PX, frame=None):
    """A gray frame with `face` (plus some replicated context) pasted at `center`."""
    frame = np.full((FRAME_H, FRAME_W), 120, np.uint8) if frame is None else frame
    pad = face.shape[0] // 4
    padded = cv2.copyMakeBorder(face, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    side = round(size * 1.5)
    patch = cv2.resize(padded, (side, side), interpolation=cv2.INTER_CUBIC)
    x0, y0 = center[0] - side // 2, center[1] - side // 2
    frame[y0 : y0 + side, x0 : x0 + side] = patch
    return frame


@pytest.fixture(scope="module")
def faces(fer_sample):
    return [read_gray(path) for path, _ in image_files(fer_sample / "val")]


def test_finds_most_real_faces_where_they_are(faces):
    finder = FaceFinder()
    hits = 0
    for face in faces:
        boxes = finder.detect(place(face, (320, 240)))
        if boxes:
            box = max(boxes, key=lambda b: b.area)
            assert abs(box.x + box.w / 2 - 320) < 25 and abs(box.y + box.h / 2 - 240) < 25
            assert 0.7 * FACE_PX < box.w < 1.3 * FACE_PX
            hits += 1
    assert hits >= 0.8 * len(faces)


def test_no_face_in_an_empty_frame():
    noise = np.random.default_rng(0).normal(120, 10, (FRAME_H, FRAME_W)).clip(0, 255)
    assert FaceFinder().find(noise.astype(np.uint8)) is None


def test_follows_a_moving_face_between_full_detections(faces):
    finder = FaceFinder()
    face = faces[6]
    found = []
    for step in range(15):
        center = (250 + 8 * step, 240 + 3 * step)
        box = finder.find(place(face, center))
        found.append(box is not None and abs(box.x + box.w / 2 - center[0]) < 25)
    assert sum(found) >= 13


def test_primary_face_is_the_larger_one_and_stays_while_both_are_in_view(faces):
    finder = FaceFinder()
    frame = place(faces[6], (200, 240), size=170)
    frame = place(faces[8], (500, 240), size=100, frame=frame)
    first = finder.find(frame)
    assert first is not None and first.x + first.w / 2 < 320
    for _ in range(12):  # past a full re-detection, it keeps the same person
        box = finder.find(frame)
        assert box is not None and box.x + box.w / 2 < 320


def test_crop_follows_the_model_contract_even_at_the_frame_edge():
    gray = np.arange(FRAME_H * FRAME_W, dtype=np.uint32).reshape(FRAME_H, FRAME_W) % 251
    gray = gray.astype(np.uint8)
    inside = crop_face(gray, Box(100, 100, 200, 200), margin=0.02)
    edge = crop_face(gray, Box(-30, 400, 120, 120), margin=0.02)
    assert inside.shape == edge.shape == (CROP_SIZE, CROP_SIZE)
    assert inside.dtype == np.uint8


def test_crop_of_a_box_covering_a_48px_face_reproduces_it(faces):
    face = faces[0]
    crop = crop_face(face, Box(0, 0, 48, 48), margin=0.0)
    assert np.array_equal(crop, face)
