"""Find the primary face in a frame with OpenCV's Haar cascade, cheaply, and crop it for the model.

Speed comes from four things: detecting on a downscaled frame (a face at webcam distance is
still 40+ px there), searching only a window around the last face between full detections,
following the face between those searches by how its picture shifted (phase correlation of two
32x32 thumbnails, a tenth of a Haar search's cost), and handing the model one face.

The box is steady on a steady face: a full detection is re-measured by the tracking search, so
both kinds of detection give the same box (they differ ~10% in size otherwise, and the crop and
the probabilities swung with them); new boxes are blended into the old one while they overlap
it; and a face that has not moved (by under a pixel) keeps its box exactly.

A head turned away (to a second screen, to someone beside the desk) loses the frontal cascade,
but the listener has not left: where the frontal search fails next to a face just seen, OpenCV's
profile cascade is tried in the same window, both ways round. A face it finds is followed and
reported as `turned`, so the pipeline neither reads it (the model only knows frontal faces) nor
counts the listener as away.

The crop rule is the model contract's: FER-2013's crops frame a face almost exactly as the
Haar box does (on the 447 of 600 val faces it finds, the box is centred and its median side is
0.979 of the crop's; `python -m training haar-framing`), so the crop is the box grown by a small
margin. That margin belongs to the model it was trained for: it is read from `model/model.json`
(written by `python -m training export`, from training/export.py CROP_MARGIN), never set here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

CASCADE_FILE = "haarcascade_frontalface_default.xml"
PROFILE_CASCADE_FILE = "haarcascade_profileface.xml"  # faces turned to one side (left, as stored)
CROP_SIZE = 48
DETECT_WIDTH = 240  # full-frame detections run on the frame scaled to this width
# Looking for someone coming back (away mode) is done smaller still: a face that fills a fifth
# of the frame's height or more, at two thirds of the cost.
AWAY_DETECT_WIDTH = 200
DETECT_SCALE_FACTOR = 1.2
MIN_NEIGHBORS = 5
MIN_FACE_FRACTION = 0.18  # smallest face searched for, as a fraction of the frame's height
FULL_DETECT_EVERY = 50  # frames between full-frame detections while a face is tracked
# With no face in view, a scene that SCENE_SETTLED searches in a row found nothing in (an empty
# desk, a face the cascade cannot find) is not searched again until it changes: the frame is
# shrunk to SCENE_PX and compared with the one searched last, less the change of the whole frame
# (so flicker and exposure do not count). On camera-like videos of real faces the 97th-percentile
# cell of that change is 1-20 grey levels (median) for sensor noise and a sitter's drift, and 45
# or more where a face arrives or another takes its place (`tests/bench_scene_change.py`). The
# first searches are not skipped because a face the cascade only just finds is found on one noisy
# frame and missed on the next; and every SCENE_RECHECK-th frame read is searched whatever it
# shows.
SCENE_PX = (32, 24)
SCENE_QUANTILE = 97
SCENE_CHANGE = 30.0
SCENE_SETTLED = 5
SCENE_RECHECK = 4


@dataclass(frozen=True)
class NearSearch:
    """A Haar search in a window around the last face (sizes relative to that face)."""

    window: float  # the window's side, in face sizes
    size_range: tuple[float, float]  # the face may shrink or grow this much since
    scale_factor: float
    min_neighbors: int
    face_px: int  # the window is scaled so the last face is about this wide


# Tracking: fewer votes suffice where a face just was (fewer dropped frames).
TRACKING = NearSearch(
    window=1.4, size_range=(0.75, 1.35), scale_factor=1.15, min_neighbors=3, face_px=48
)
# A turned face, by the profile cascade: it frames the head smaller and off-centre from where the
# frontal box was, so the window is wider, the face may be under half the size, and the search is
# finer. On real turned FER-2013 faces shown where a frontal face was, this keeps 221 of 270
# frames (150 with the tracking search's values), and calls 9 of the 471 frames with a face in
# the README's bench video turned (25): `python tests/bench_turned_faces.py --video bench.mp4`.
TURNED = NearSearch(
    window=2.2, size_range=(0.4, 1.3), scale_factor=1.08, min_neighbors=2, face_px=48
)
SWITCH_AREA_RATIO = 1.5  # another face must be this much larger to become the primary one
# Between Haar searches the face is followed by the shift of its picture: where the last search
# put the box, the frame is shrunk to FOLLOW_PX² and phase-correlated with the same thumbnail
# then. A clear peak (FOLLOW_MIN_RESPONSE; a face that stays gives 0.9-1.0, one that left or
# changed a lot far less) and a shift under FOLLOW_MAX_SHIFT face widths move the box; anything
# else, and every FOLLOW_FRAMES_MAX frames, is searched for again. The thumbnails' cells are
# ~5 px on a face at desk distance, so the box follows to within a few pixels.
FOLLOW_PX = 32
FOLLOW_MIN_RESPONSE = 0.5
FOLLOW_MAX_SHIFT = 0.25
FOLLOW_FRAMES_MAX = 9
# A turned head is searched again (frontal, full frame, then profile) less often: it is not
# read meanwhile, and facing the screen again is noticed within two seconds.
FOLLOW_FRAMES_MAX_TURNED = 19
FOLLOW_DEADBAND_PX = 1.0  # a smaller shift is noise: the box stays where it is
BOX_BLEND = 0.5  # a new box moves the old one this far towards it...
BLEND_MIN_IOU = 0.5  # ...while they overlap this much; past that it is a move, taken at once
BLEND_MAX_MOVE = 0.04  # a box centre further than this (in face widths) is taken, not blended


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


def load_cascade(name: str = CASCADE_FILE) -> cv2.CascadeClassifier:
    """One of OpenCV's bundled cascades; raises RuntimeError if it cannot be loaded."""
    path = cv2.data.haarcascades + name  # type: ignore[attr-defined]
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
        self.profile_cascade = load_cascade(PROFILE_CASCADE_FILE)
        self.detect_width = DETECT_WIDTH
        self.reset()

    def reset(self) -> None:
        """Forget the last face (a new video or camera)."""
        self.last: Box | None = None
        self.frames_since_full = 0
        self.frames_followed = 0
        self.searches = 0  # Haar searches run (tracking or full), for benchmarks and tests
        self.turned = False  # the face found last is turned away (seen only in profile)
        self._blended: np.ndarray | None = None  # the last box as floats (x, y, w, h)
        self._reference: tuple[Box, np.ndarray] | None = None  # the box searched, its thumbnail
        self._scene: np.ndarray | None = None  # with no face: the frame last searched, shrunk
        self._fruitless = 0  # full searches in a row that found no face

    def find(self, gray: np.ndarray) -> Box | None:
        """The primary face in a grayscale frame, or None."""
        self.frames_since_full += 1
        if self.last is not None and self.frames_since_full < FULL_DETECT_EVERY:
            follow_max = FOLLOW_FRAMES_MAX_TURNED if self.turned else FOLLOW_FRAMES_MAX
            followed = self._follow(gray) if self.frames_followed < follow_max else None
            if followed is not None:
                self.frames_followed += 1
                self.last = followed
                return followed
            self.searches += 1
            tracked = self._search_near(gray, self.last)
            if tracked is not None:
                self.turned = False
                return self._settle(gray, tracked)
        if self.last is None and not self._scene_changed(gray):
            return None
        self.frames_since_full = 0
        self.searches += 1
        found = self._choose(self.detect(gray))
        if found is None:
            turned = None if self.last is None else self._search_turned(gray, self.last)
            if turned is not None:
                self.turned = True
                return self._settle(gray, turned)
            self._fruitless += 1
            self.last, self._blended, self._reference = None, None, None
            self.turned = False
            return None
        self.turned = False
        self._fruitless = 0
        # Measured again as tracking measures it (around the tracked box, if this is that face),
        # so the two kinds of search agree on its size.
        same = self.last is not None and found.iou(self.last) >= BLEND_MIN_IOU
        anchor = self.last if same and self.last is not None else found
        return self._settle(gray, self._search_near(gray, anchor) or found)

    def _scene_changed(self, gray: np.ndarray) -> bool:
        """With no face: whether to search this frame (too few fruitless searches yet to stop,
        the scene changed since the last one, or that was SCENE_RECHECK frames ago); keeps the
        frame as the one searched if so."""
        scene = _scene(gray)
        if (
            self._scene is not None
            and self._fruitless >= SCENE_SETTLED
            and self.frames_since_full < SCENE_RECHECK
            and scene_change(self._scene, scene) < SCENE_CHANGE
        ):
            return False
        self._scene = scene
        return True

    def _settle(self, gray: np.ndarray, box: Box) -> Box:
        """Take a newly searched box: its size blended into the last one's while they overlap,
        and its place too while it is within BLEND_MAX_MOVE face widths (further, the face
        moved: it is taken at once, so a moving face is not trailed)."""
        new = np.array([box.x, box.y, box.w, box.h], np.float64)
        last = self.last
        if self._blended is not None and last is not None and box.iou(last) >= BLEND_MIN_IOU:
            blended = np.array([last.x, last.y, self._blended[2], self._blended[3]])
            blended[2:] += BOX_BLEND * (new[2:] - blended[2:])
            centre_new = new[:2] + new[2:] / 2
            centre_last = np.array([last.x + last.w / 2, last.y + last.h / 2])
            moved = float(np.hypot(*(centre_new - centre_last)))
            pull = BOX_BLEND if moved <= BLEND_MAX_MOVE * last.w else 1.0
            centre = centre_last + pull * (centre_new - centre_last)
            blended[:2] = centre - blended[2:] / 2
            self._blended = blended
        else:
            self._blended = new
        x, y, w, h = (round(float(v)) for v in self._blended)
        self.last = Box(x, y, w, h)
        thumbnail = _thumbnail(gray, self.last)
        self._reference = None if thumbnail is None else (self.last, thumbnail)
        self.frames_followed = 0
        return self.last

    def _follow(self, gray: np.ndarray) -> Box | None:
        """The face's box moved by how its picture shifted since the last search; None if
        that is not clear."""
        if self._reference is None:
            return None
        box, then = self._reference
        now = _thumbnail(gray, box)
        if now is None:
            return None
        (dx, dy), response = cv2.phaseCorrelate(then, now, _hann())
        scale = box.w / FOLLOW_PX
        dx, dy = dx * scale, dy * scale
        shift = float(np.hypot(dx, dy))
        if response < FOLLOW_MIN_RESPONSE or shift > FOLLOW_MAX_SHIFT * box.w:
            return None
        if shift < FOLLOW_DEADBAND_PX:
            return box
        return Box(box.x + round(dx), box.y + round(dy), box.w, box.h)

    def detect(self, gray: np.ndarray) -> list[Box]:
        """Every face in the frame, found on a copy scaled down to `detect_width`."""
        scale = min(1.0, self.detect_width / gray.shape[1])
        small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        min_side = max(24, round(MIN_FACE_FRACTION * small.shape[0]))
        found = self.cascade.detectMultiScale(
            small, DETECT_SCALE_FACTOR, MIN_NEIGHBORS, minSize=(min_side, min_side)
        )
        return [_scaled(b, 1 / scale) for b in found]

    def _search_turned(self, gray: np.ndarray, last: Box) -> Box | None:
        """A face turned to either side in the window around `last`, or None."""
        for mirrored in (False, True):
            found = self._search_near(gray, last, TURNED, self.profile_cascade, mirrored)
            if found is not None:
                return found
        return None

    def _search_near(
        self,
        gray: np.ndarray,
        last: Box,
        search: NearSearch = TRACKING,
        cascade: cv2.CascadeClassifier | None = None,
        mirrored: bool = False,
    ) -> Box | None:
        """The face inside a window around `last`, found at a scale where it is ~face_px wide
        (by the frontal cascade unless another is given; `mirrored`: in the window flipped)."""
        half = last.w * search.window / 2
        cx, cy = last.x + last.w / 2, last.y + last.h / 2
        x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
        x1, y1 = min(gray.shape[1], int(cx + half)), min(gray.shape[0], int(cy + half))
        scale = min(1.0, search.face_px / last.w)
        window = cv2.resize(
            gray[y0:y1, x0:x1], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA
        )
        min_side = round(search.face_px * search.size_range[0])
        max_side = min(round(search.face_px * search.size_range[1]), *window.shape[:2])
        if max_side < min_side:
            return None
        if mirrored:
            window = cv2.flip(window, 1)
        found = (cascade or self.cascade).detectMultiScale(
            window, search.scale_factor, search.min_neighbors, minSize=(min_side, min_side),
            maxSize=(max_side, max_side),
        )  # fmt: skip
        if len(found) == 0:
            return None
        x, y, w, h = max(found, key=lambda b: b[2] * b[3])
        if mirrored:
            x = window.shape[1] - x - w
        box = _scaled((x, y, w, h), 1 / scale)
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


def _thumbnail(gray: np.ndarray, box: Box) -> np.ndarray | None:
    """The frame inside `box`, shrunk to FOLLOW_PX² (float32); None if the box is off the frame."""
    x0, y0 = max(0, box.x), max(0, box.y)
    x1, y1 = min(gray.shape[1], box.x + box.w), min(gray.shape[0], box.y + box.h)
    if x1 - x0 < FOLLOW_PX // 2 or y1 - y0 < FOLLOW_PX // 2:
        return None
    small = cv2.resize(gray[y0:y1, x0:x1], (FOLLOW_PX, FOLLOW_PX), interpolation=cv2.INTER_AREA)
    return small.astype(np.float32)


def _scene(gray: np.ndarray) -> np.ndarray:
    return cv2.resize(gray, SCENE_PX, interpolation=cv2.INTER_AREA).astype(np.float32)


def scene_change(before: np.ndarray, after: np.ndarray) -> float:
    """How much a shrunk scene changed: the SCENE_QUANTILE-th percentile cell of the change,
    less the whole frame's (so flicker and exposure do not count)."""
    change = after - before
    change -= float(np.median(change))
    return float(np.percentile(np.abs(change), SCENE_QUANTILE))


@cache
def _hann() -> np.ndarray:
    return cv2.createHanningWindow((FOLLOW_PX, FOLLOW_PX), cv2.CV_32F)


def _scaled(box, factor: float) -> Box:
    x, y, w, h = (round(float(v) * factor) for v in box)
    return Box(x, y, w, h)
