"""Measure how the host's Haar box frames a face compared with a dataset's crops.

    python -m training haar-framing --data ../shared/datasets/fer2013/val

Each crop is padded with its own edge pixels, enlarged, and searched with the host's face finder;
the box's centre and side, as fractions of the crop, tell the crop rule that reproduces the
dataset's framing live (training/export.py CROP_MARGIN, written into model.json).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from host.vision.faces import FaceFinder
from training.data import image_files, read_gray

ENLARGE = 4
PAD = 0.5  # of the crop's side, on every edge


def haar_framing(data_dir: str | Path, limit: int = 600, seed: int = 0) -> dict:
    """Median (and quartiles of) the Haar box's centre x, y and side, relative to the crop."""
    files = image_files(Path(data_dir))
    rows = np.random.default_rng(seed).permutation(len(files))[:limit]
    finder = FaceFinder()
    relative = []
    for row in rows:
        crop = read_gray(files[row][0])
        side = crop.shape[0]
        pad = round(side * PAD)
        padded = cv2.copyMakeBorder(crop, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        big = cv2.resize(padded, None, fx=ENLARGE, fy=ENLARGE, interpolation=cv2.INTER_CUBIC)
        faces = finder.detect(big)
        if not faces:
            continue
        box = max(faces, key=lambda b: b.area)
        cx = ((box.x + box.w / 2) / ENLARGE - pad) / side
        cy = ((box.y + box.h / 2) / ENLARGE - pad) / side
        relative.append((cx, cy, box.w / ENLARGE / side))
    values = np.array(relative)
    quartiles = np.percentile(values, [25, 50, 75], axis=0).round(3)
    return {
        "images": len(rows),
        "faces_found": len(values),
        "centre_x": quartiles[:, 0].tolist(),
        "centre_y": quartiles[:, 1].tolist(),
        "side": quartiles[:, 2].tolist(),
        "crop_margin_for_same_framing": round(float(1 / np.median(values[:, 2]) - 1), 3),
    }
