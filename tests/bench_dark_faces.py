"""Does lifting a dark face (CLAHE, or a gamma curve) help the emotion model read it?

    python tests/bench_dark_faces.py --data ../shared/datasets/fer2013/val [--limit 1200]

Every val face is read by the shipped model as it is, then darkened as a dim room darkens a
webcam picture (brightness times DIM, sensor noise, rounded to 8 bits), and read again: as
darkened, after CLAHE, and after a gamma lift to the original mean brightness. Printed: the
accuracy of each, and of CLAHE on the undarkened faces (what it would cost in good light), and
of what the pipeline ships (host/vision/quality.py: the gamma lift, on a dim face only).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from host.vision.emotion import MODEL_DIR, EmotionModel
from host.vision.quality import lift_dim_face
from training.data import image_files, read_gray

DIMS = (0.35, 0.2)  # a dim room, a dark one
NOISE_SIGMA = 2.0


def clahe(face: np.ndarray) -> np.ndarray:
    return cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 4)).apply(face)


def gamma_lift(face: np.ndarray, target_mean: float = 120.0) -> np.ndarray:
    """A gamma curve that brings the face's mean brightness to `target_mean`."""
    mean = max(float(face.mean()), 1.0) / 255
    gamma = np.log(target_mean / 255) / np.log(mean)
    table = np.clip(255 * (np.arange(256) / 255) ** gamma, 0, 255).astype(np.uint8)
    return cv2.LUT(face, table)


def lift_if_dim(face: np.ndarray) -> np.ndarray:
    """What the pipeline ships: the quality module's lift, only on a dim face."""
    return lift_dim_face(face)


def dark_face_figures(data_dir: Path, limit: int, seed: int = 5) -> dict:
    rng = np.random.default_rng(seed)
    files = image_files(data_dir)
    chosen = [files[i] for i in rng.choice(len(files), min(limit, len(files)), replace=False)]
    model = EmotionModel.load(MODEL_DIR)
    size = model.contract.input_shape[0]
    hits: dict[str, int] = {}

    def read(name: str, face: np.ndarray, label: int) -> None:
        face = cv2.resize(face, (size, size), interpolation=cv2.INTER_AREA)
        hits[name] = hits.get(name, 0) + int(np.argmax(model.predict(face)) == label)

    for path, label in chosen:
        face = read_gray(path)
        read("as is", face, label)
        read("as is + CLAHE", clahe(face), label)
        read("as is + gamma when dim", lift_if_dim(face), label)
        for dim in DIMS:
            noisy = face.astype(np.float32) * dim + rng.normal(0, NOISE_SIGMA, face.shape)
            dark = np.clip(noisy, 0, 255).round().astype(np.uint8)
            read(f"dim {dim}", dark, label)
            read(f"dim {dim} + CLAHE", clahe(dark), label)
            read(f"dim {dim} + gamma", gamma_lift(dark), label)
            read(f"dim {dim} + gamma when dim", lift_if_dim(dark), label)
    return {"faces": len(chosen), **{k: round(v / len(chosen), 4) for k, v in hits.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="folder of <label>/<image> face crops")
    parser.add_argument("--limit", type=int, default=1200, help="faces to use (a random sample)")
    args = parser.parse_args()
    print(json.dumps(dark_face_figures(Path(args.data), args.limit)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
