"""How well the model reads a face that is small in the picture.

    python tests/bench_small_faces.py --data ../shared/datasets/fer2013/val [--faces 1500]

FER-2013 faces are 48 px. Each chosen face is shrunk to N px (as a face that far from the camera
would be) and scaled back up to 48 as the host's crop scales a small box; printed: accuracy at
each N.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from host.vision.emotion import EmotionModel
from host.vision.faces import CROP_SIZE
from training.data import load

SIZES = (48, 40, 32, 28, 24, 20, 16)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--faces", type=int, default=1500)
    args = parser.parse_args()
    model, faces = EmotionModel.load(), load(args.data)
    chosen = np.random.default_rng(0).choice(len(faces.labels), args.faces, replace=False)
    for size in SIZES:
        right = 0
        for index in chosen:
            face = faces.images[index]
            if size < CROP_SIZE:
                small = cv2.resize(face, (size, size), interpolation=cv2.INTER_AREA)
                face = cv2.resize(small, (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_LINEAR)
            right += int(np.argmax(model.predict(face)) == faces.labels[index])
        print(f"{size:3d} px: {right / len(chosen):.1%} of {len(chosen)} faces read right")


if __name__ == "__main__":
    main()
