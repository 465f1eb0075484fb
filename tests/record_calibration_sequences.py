"""Record what the host reads on camera-like videos of two people's faces, for calibration tests.

    python tests/record_calibration_sequences.py

Writes tests/data/calibration/<person>_<expression>.npz (timestamps, the model's probabilities,
NaN rows where no face was found) from the photos in tests/data/faces_by_person: Bill Graham,
whose resting face the model reads as angry or sad, and Alan Greenspan, whose resting face it
reads as neutral. `rest_a` holds all but one of a person's neutral photos, `rest_b` the one
left out (a resting face the calibration has not seen). Rerun it after shipping a new model.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from record_mood_sequences import record

from training.videos import make_video

HERE = Path(__file__).resolve().parent
PHOTOS = HERE / "data" / "faces_by_person"
OUT = HERE / "data" / "calibration"
SECONDS_EACH = 3.0


def photos(person: str, label: str) -> list[Path]:
    return sorted((PHOTOS / label).glob(f"{person}__*"))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for person in ("Bill_Graham", "Alan_Greenspan"):
        neutral = photos(person, "neutral")
        sets = {"rest_a": neutral[:-1], "rest_b": neutral[-1:], "happy": photos(person, "happy")}
        for name, chosen in sets.items():
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp) / "faces" / "neutral"
                folder.mkdir(parents=True)
                for photo in chosen:
                    shutil.copy(photo, folder)
                video = Path(tmp) / "video.mp4"
                make_video(folder.parent, video, len(chosen), SECONDS_EACH, seed=3)
                times, probabilities = record(video)
            np.savez_compressed(
                OUT / f"{person}_{name}.npz", times=times, probabilities=probabilities
            )
            found = ~np.isnan(probabilities[:, 0])
            top = np.bincount(np.nanargmax(probabilities[found], 1), minlength=7)
            print(
                f"{person} {name}: {len(times)} frames, {found.mean():.0%} with a face, top {top}"
            )


if __name__ == "__main__":
    main()
