"""Whether a frame's face can be read at all: too dark or washed out.

A reading of such a face is worth nothing (the model still answers, with confidence), so the
pipeline does not feed it to the mood tracker and the session says why in `status.quality`.
All the checks are on the 48x48 crop the model would see (or, with no face found, on a coarse
sample of the frame: a dark room is why no face is found), so they cost microseconds.

A face too small to read is never read, because it is never found: the finder searches for
faces at least MIN_FACE_FRACTION of the frame's height (86 px in a 480-line frame) and follows
one no smaller than three quarters of TRACKING's 48 px (36 px). Shown at 32 px the model reads
66.5% of FER-2013 val faces right against 68.4% at their own 48 px; it is at 24 px and below that
readings fall away (57.5%, then 46.7% at 20 px: `python tests/bench_small_faces.py`).

Brightness limits are the crop's mean grey level. A turned head is not checked here: mirror
symmetry of the crop, the cheap check tried, did not tell frontal FER-2013 faces from ones
turned or tilted by 25-35 degrees (their distributions overlap), and the frontal Haar cascade
mostly stops finding a face turned further.
"""

from __future__ import annotations

import cv2
import numpy as np

from host.vocabulary import FrameQuality

DARK_MEAN = 18.0  # a face crop darker than this on average is "too dark"
LIFT_BELOW_MEAN = 80.0  # a dimmer crop is lifted by a gamma curve to LIFT_TO_MEAN
LIFT_TO_MEAN = 120.0
BRIGHT_MEAN = 215.0  # ...brighter than this, "too bright" (washed out)
MIN_CONTRAST = 12.0  # a crop with less spread of grey levels shows no features
FRAME_SAMPLE_STEP = 16  # with no face, every 16th pixel each way says how bright the frame is


def face_quality(crop: np.ndarray) -> FrameQuality:
    """The quality of a face crop (grayscale uint8, the model's input)."""
    values = crop.astype(np.float32)
    mean, spread = float(values.mean()), float(values.std())
    if mean < DARK_MEAN or (spread < MIN_CONTRAST and mean < 128):
        return "too_dark"
    if mean > BRIGHT_MEAN or spread < MIN_CONTRAST:
        return "too_bright"
    return "ok"


def scene_quality(gray: np.ndarray, levels: np.ndarray | None = None) -> FrameQuality:
    """With no face found: whether the frame is too dark or too bright to find one in
    (`levels`: the table to full range of a video-range picture)."""
    sample = gray[::FRAME_SAMPLE_STEP, ::FRAME_SAMPLE_STEP]
    mean = float((sample if levels is None else cv2.LUT(sample, levels)).mean())
    if mean < DARK_MEAN:
        return "too_dark"
    if mean > BRIGHT_MEAN:
        return "too_bright"
    return "ok"


def lift_dim_face(crop: np.ndarray) -> np.ndarray:
    """A dim crop (mean below LIFT_BELOW_MEAN) brightened by a gamma curve to LIFT_TO_MEAN.

    On FER-2013 val darkened to 0.35 of its brightness, this brings the model from 56.6% to
    63.1% (CLAHE: 63.5%, but CLAHE on faces in good light costs a point, 68.5% to 67.5%);
    `python tests/bench_dark_faces.py`.
    """
    mean = float(crop.mean())
    if mean >= LIFT_BELOW_MEAN:
        return crop
    gamma = np.log(LIFT_TO_MEAN / 255) / np.log(max(mean, 1.0) / 255)
    table = np.clip(255 * (np.arange(256) / 255) ** gamma, 0, 255).astype(np.uint8)
    return cv2.LUT(crop, table)
