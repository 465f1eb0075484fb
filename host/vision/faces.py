"""Find the primary face in a frame with OpenCV's Haar cascade, cheaply, and crop it for the model.

Speed comes from three things: detecting on a downscaled frame (a face at webcam distance is
still 40+ px there), searching only a window around the last face between full detections, and
handing the model one face. The crop rule is the model contract's: FER-2013's crops frame a face
almost exactly as the Haar box does (on the 447 of 600 val faces it finds, the box is centred and
its median side is 0.979 of the crop's; `python -m training haar-framing`), so the crop is the
box grown by a small margin. That margin belongs to the model it was trained for: it is read from
`model/model.json` (written by `python -m training export`, from training/export.py CROP_MARGIN),
never set here.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

CASCADE_FILE = "haarcascade_frontalface_default.xml"
CROP_SIZE = 48
DETECT_WIDTH = 240  # full-frame detections run on the frame scaled to this width
DETECT_SCALE_FACTOR = 1.2
TRACK_SCALE_FACTOR = 1.15
MIN_NEIGHBORS = 5
TRACK_MIN_NEIGHBORS = 3  # fewer votes suffice where a face just was (fewer dropped frames)
MIN_FACE_FRACTION = 0.18  # smallest face searched for, as a fraction of the frame's height
FULL_DETECT_EVERY = 10  # frames between full-frame detections while a face is tracked
NO_FACE_DETECT_EVERY = 3  # with no face in view, look for one on every third frame only
TRACK_WINDOW = 1.4  # the tracking window's side, in face sizes, around the last face
TRACK_FACE_PX = 48  # the tracking window is scaled so the last face is about this wide
TRACK_SIZE_RANGE = (0.75, 1.35)  # the face may shrink or grow this much between frames
SWITCH_AREA_RATIO = 1.5  # another face must be this much larger to become the primary one


@dataclass(frozen=True)
class Box:
    """A face box in frame pixels."""

    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        return self.w * self.h

    def iou(self, other: Box) -> float:
        """Intersection over union with another box (0 when apart, 1 when equal)."""
        ix = max(0, min(self.x + self.w, other.x + other.w) - max(self.x, other.x))
        iy = max(0, min(self.y + self.h, other.y + other.h) - max(self.y, other.y))
        inter = ix * iy
        return inter / (self.area + other.area - inter) if inter else 0.0


def load_cascade() -> cv2.CascadeClassifier:
    """OpenCV's bundled frontal-face cascade; raises RuntimeError if it cannot be loaded."""
    path = cv2.data.haarcascades + CASCADE_FILE  # type: ignore[attr-defined]
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise RuntimeError(f"cannot load the Haar cascade {path}")
    return cascade


def to_gray(frame: np.ndarray) -> np.ndarray:
    """A BGR or grayscale frame as 2-D uint8 grayscale."""
    return frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def crop_face(gray: np.ndarray, box: Box, margin: float, size: int = CROP_SIZE) -> np.ndarray:
    """The model's input for a face: a square `size`x`size` crop around `box`, edges replicated.

    The square's side is the box's longer side times (1 + margin).
    """
    side = max(box.w, box.h) * (1 + margin)
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    x0, y0 = round(cx - side / 2), round(cy - side / 2)
    x1, y1 = x0 + round(side), y0 + round(side)
    height, width = gray.shape
    pad = max(0, -x0, -y0, x1 - width, y1 - height)
    if pad:
        gray = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    patch = gray[y0 + pad : y1 + pad, x0 + pad : x1 + pad]
    interpolation = cv2.INTER_AREA if patch.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(patch, (size, size), interpolation=interpolation)


class FaceFinder:
    """Finds the primary face frame after frame, remembering where it was."""

    def __init__(self, cascade: cv2.CascadeClassifier | None = None) -> None:
        self.cascade = cascade or load_cascade()
        self.last: Box | None = None
        self.frames_since_full = NO_FACE_DETECT_EVERY

    def reset(self) -> None:
        """Forget the last face (a new video or camera)."""
        self.last = None
        self.frames_since_full = NO_FACE_DETECT_EVERY

    def find(self, gray: np.ndarray) -> Box | None:
        """The primary face in a grayscale frame, or None."""
        self.frames_since_full += 1
        if self.last is not None and self.frames_since_full < FULL_DETECT_EVERY:
            tracked = self._search_near(gray, self.last)
            if tracked is not None:
                self.last = tracked
                return tracked
        elif self.last is None and self.frames_since_full < NO_FACE_DETECT_EVERY:
            return None
        self.frames_since_full = 0
        self.last = self._choose(self.detect(gray))
        return self.last

    def detect(self, gray: np.ndarray) -> list[Box]:
        """Every face in the frame, found on a copy scaled down to DETECT_WIDTH."""
        scale = min(1.0, DETECT_WIDTH / gray.shape[1])
        small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        min_side = max(24, round(MIN_FACE_FRACTION * small.shape[0]))
        found = self.cascade.detectMultiScale(
            small, DETECT_SCALE_FACTOR, MIN_NEIGHBORS, minSize=(min_side, min_side)
        )
        return [_scaled(b, 1 / scale) for b in found]

    def _search_near(self, gray: np.ndarray, last: Box) -> Box | None:
        """The face inside a window around `last`, found at a scale where it is ~TRACK_FACE_PX."""
        half = last.w * TRACK_WINDOW / 2
        cx, cy = last.x + last.w / 2, last.y + last.h / 2
        x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
        x1, y1 = min(gray.shape[1], int(cx + half)), min(gray.shape[0], int(cy + half))
        scale = min(1.0, TRACK_FACE_PX / last.w)
        window = cv2.resize(
            gray[y0:y1, x0:x1], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA
        )
        min_side = round(TRACK_FACE_PX * TRACK_SIZE_RANGE[0])
        max_side = min(round(TRACK_FACE_PX * TRACK_SIZE_RANGE[1]), *window.shape[:2])
        if max_side < min_side:
            return None
        found = self.cascade.detectMultiScale(
            window, TRACK_SCALE_FACTOR, TRACK_MIN_NEIGHBORS, minSize=(min_side, min_side),
            maxSize=(max_side, max_side),
        )  # fmt: skip
        if len(found) == 0:
            return None
        best = max(found, key=lambda b: b[2] * b[3])
        box = _scaled(best, 1 / scale)
        return Box(box.x + x0, box.y + y0, box.w, box.h)

    def _choose(self, faces: list[Box]) -> Box | None:
        """The primary face: the one we had, unless another is clearly larger; else the largest."""
        if not faces:
            return None
        largest = max(faces, key=lambda b: b.area)
        if self.last is None:
            return largest
        same = max(faces, key=lambda b: b.iou(self.last))  # type: ignore[arg-type]
        if same.iou(self.last) > 0.3 and largest.area < SWITCH_AREA_RATIO * same.area:
            return same
        return largest


def _scaled(box, factor: float) -> Box:
    x, y, w, h = (round(float(v) * factor) for v in box)
    return Box(x, y, w, h)
