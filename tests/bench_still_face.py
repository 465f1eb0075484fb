"""How still is the reading of a still face? Frame-to-frame change of the box and probabilities.

    python tests/bench_still_face.py --data ../shared/datasets/fer2013/val [--faces 12]

Each face is rendered as the camera-like videos do (sensor noise, brightness flicker), but held
perfectly still for 6 s at 10 fps, and run through the real per-frame pipeline. Printed: the
median and p95 over all consecutive frame pairs of the largest change of any emotion
probability, of the box side (as a fraction) and of the box centre (px), and how many distinct
boxes a face got. A still face should give a still box, and probabilities that move only with
the noise.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from host.vision.emotion import MODEL_DIR, EmotionModel
from host.vision.pipeline import FacePipeline
from training.data import image_files, read_gray
from training.videos import FRAME_SIZE, background, face_patch, render

FRAMES = 60
FPS = 10.0


def still_face_figures(data_dir: Path, faces: int, seed: int = 3) -> dict:
    rng = np.random.default_rng(seed)
    files = [path for path, _ in image_files(data_dir)]
    chosen = [files[i] for i in rng.choice(len(files), faces, replace=False)]
    pipeline = FacePipeline(EmotionModel.load(MODEL_DIR))
    base = background(rng)
    center = (FRAME_SIZE[0] / 2, FRAME_SIZE[1] / 2 - 10)
    prob_steps, side_steps, centre_steps, distinct = [], [], [], []
    for path in chosen:
        pipeline.reset()
        patch, mask = face_patch(read_gray(path))
        previous = None
        boxes = set()
        for index in range(FRAMES):
            result = pipeline.process(render(base, patch, mask, center, rng), index / FPS)
            if result.box is None or result.probabilities is None:
                previous = None
                continue
            box = result.box
            boxes.add((box.x, box.y, box.w, box.h))
            if previous is not None:
                last_box, last_probabilities = previous
                prob_steps.append(float(np.abs(result.probabilities - last_probabilities).max()))
                side_steps.append(abs(box.w - last_box.w) / last_box.w)
                centre_steps.append(
                    float(
                        np.hypot(
                            box.x + box.w / 2 - last_box.x - last_box.w / 2,
                            box.y + box.h / 2 - last_box.y - last_box.h / 2,
                        )
                    )
                )
            previous = (box, result.probabilities)
        distinct.append(len(boxes))

    def spread(values: list[float]) -> dict:
        if not values:
            return {"median": None, "p95": None}
        return {
            "median": round(float(np.median(values)), 4),
            "p95": round(float(np.percentile(values, 95)), 4),
        }

    return {
        "faces": faces,
        "frame_pairs": len(prob_steps),
        "probability_step": spread(prob_steps),
        "box_side_step": spread(side_steps),
        "box_centre_step_px": spread(centre_steps),
        "distinct_boxes_per_face": spread([float(d) for d in distinct]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="folder of <label>/<image> face crops")
    parser.add_argument("--faces", type=int, default=12)
    args = parser.parse_args()
    print(json.dumps(still_face_figures(Path(args.data), args.faces)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
