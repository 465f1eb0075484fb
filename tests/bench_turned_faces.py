"""Are turned heads told apart from faces that left, and frontal faces left alone?

    python tests/bench_turned_faces.py [--video bench.mp4]

Each real turned face in tests/data/turned_faces is shown for 30 frames where a frontal face
was being followed (rendered as the camera-like videos are: sensor noise, flicker), and the
frames on which the finder still has a face and calls it turned are counted, for the shipped
search and the tracking search's values. With `--video` (frontal faces only, e.g. the README's
bench video), the frames it calls turned there are counted too: each is a frame not read.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from host.vision import faces
from training.data import image_files, read_gray
from training.videos import background, face_patch, render

TURNED_FACES = Path(__file__).parent / "data" / "turned_faces"
FER_SAMPLE = Path(__file__).parent / "data" / "fer_sample" / "val"
FRAMES = 30
CENTRE = (320, 230)


def turned_frames(search: faces.NearSearch, seed: int = 3) -> dict[str, int]:
    """For each turned face, the frames (of FRAMES) it is found and called turned."""
    faces.TURNED = search
    rng = np.random.default_rng(seed)
    base = background(rng)
    frontal = face_patch(read_gray(next(p for p, label in image_files(FER_SAMPLE) if label == 3)))

    def frame(patch_and_mask: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        return cv2.cvtColor(render(base, *patch_and_mask, CENTRE, rng), cv2.COLOR_BGR2GRAY)

    kept = {}
    for path in sorted(TURNED_FACES.glob("*.jpg")):
        finder = faces.FaceFinder()
        for _ in range(10):
            finder.find(frame(frontal))
        turned = face_patch(read_gray(path))
        kept[path.stem] = sum(
            finder.find(frame(turned)) is not None and finder.turned for _ in range(FRAMES)
        )
    return kept


def frontal_called_turned(video: Path, search: faces.NearSearch) -> tuple[int, int]:
    """Frames of `video` with a face, and of those the ones called turned."""
    faces.TURNED = search
    finder, found, turned = faces.FaceFinder(), 0, 0
    capture = cv2.VideoCapture(str(video))
    while True:
        ok, image = capture.read()
        if not ok:
            break
        box = finder.find(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
        found += box is not None
        turned += box is not None and finder.turned
    capture.release()
    return found, turned


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, help="a video of frontal faces")
    args = parser.parse_args()
    shipped = faces.TURNED
    searches = {"shipped": shipped, "tracking values": faces.TRACKING}
    report = {}
    for name, search in searches.items():
        kept = turned_frames(search)
        row: dict = {
            "turned_frames": sum(kept.values()),
            "of": FRAMES * len(kept),
            "per_face": kept,
        }
        if args.video:
            row["frontal_frames"], row["frontal_called_turned"] = frontal_called_turned(
                args.video, search
            )
        report[name] = row
    faces.TURNED = shipped
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
