"""Record the per-frame emotion probabilities the host sees on camera-like videos of real faces.

    python tests/record_mood_sequences.py

Writes tests/data/mood/*.npz (timestamps, probabilities with NaN rows where no face was found)
for the mood tracker's tests: a steady face held for a minute, and faces that change expression.
Rerun it after shipping a new model.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from host.vision.emotion import EmotionModel
from host.vision.pipeline import FacePipeline
from training.videos import make_video, read_timeline

HERE = Path(__file__).resolve().parent
OUT = HERE / "data" / "mood"
VIDEOS = {  # name: (faces, seconds each, seed)
    "steady": (1, 60.0, 11),
    "changes": (6, 4.0, 5),
}


def record(video: Path) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame timestamps and probabilities (NaN where no face) for every frame of `video`."""
    pipeline = FacePipeline(EmotionModel.load())
    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS)
    times, rows = [], []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        result = pipeline.process(image, len(times) / fps)
        times.append(result.timestamp)
        rows.append(
            result.probabilities if result.probabilities is not None else np.full(7, np.nan)
        )
    return np.array(times), np.array(rows, np.float32)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, (faces, seconds, seed) in VIDEOS.items():
            video = Path(tmp) / f"{name}.mp4"
            make_video(HERE / "data" / "fer_sample" / "val", video, faces, seconds, seed)
            times, probabilities = record(video)
            starts = np.array([s.start_s for s in read_timeline(video)])
            np.savez_compressed(
                OUT / f"{name}.npz", times=times, probabilities=probabilities, segment_starts=starts
            )
            print(
                f"{name}: {len(times)} frames, {np.isnan(probabilities[:, 0]).mean():.0%} no face"
            )


if __name__ == "__main__":
    main()
