"""How much a camera-like scene changes between two searches for a face, and what the face
finder's scene check makes of it.

    python tests/bench_scene_change.py VIDEO [VIDEO ...]

Each VIDEO needs its timeline (`VIDEO.json`, from `python -m training make-video`). Frames are
taken SEARCH_FPS times a second, shrunk as the finder shrinks them (faces.SCENE_PX), and each is
compared with the one before as the finder compares them (faces.scene_change). Printed per
video: that figure within one held face (median, p99, max) and across each change of face, then
how many full searches the finder ran on the video with and without the scene check, as the
host reads it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from host.vision import faces
from host.vision.pipeline import DEFAULT_FPS, SEARCH_FPS


def scene_changes(video: Path) -> tuple[list[float], list[float]]:
    """The change figure between frames SEARCH_FPS apart: within a segment, and across two."""
    segments = json.loads(Path(f"{video}.json").read_text())["segments"]
    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS) or DEFAULT_FPS
    step = max(1, round(fps / SEARCH_FPS))
    within, across, previous, index = [], [], None, 0
    while (read := capture.read())[0]:
        if index % step == 0:
            t = index / fps
            scene = faces._scene(cv2.cvtColor(read[1], cv2.COLOR_BGR2GRAY))
            segment = next(
                (k for k, s in enumerate(segments) if s["start_s"] <= t < s["end_s"]), -1
            )
            if previous is not None:
                figure = faces.scene_change(previous[0], scene)
                (within if segment == previous[1] else across).append(figure)
            previous = (scene, segment)
        index += 1
    capture.release()
    return within, across


def full_searches(video: Path, check: bool) -> int:
    """Full-frame searches the finder runs on `video`, read at DEFAULT_FPS with a face and
    SEARCH_FPS without."""
    finder = faces.FaceFinder()
    if not check:
        finder._scene_changed = lambda gray: True  # type: ignore[method-assign]
    detect, runs = finder.detect, [0]

    def counted(gray):
        runs[0] += 1
        return detect(gray)

    finder.detect = counted  # type: ignore[method-assign]
    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS) or DEFAULT_FPS
    index, due = 0, 0.0
    while (read := capture.read())[0]:
        if index / fps >= due - 1e-6:
            box = finder.find(cv2.cvtColor(read[1], cv2.COLOR_BGR2GRAY))
            due += 1 / (DEFAULT_FPS if box is not None else SEARCH_FPS)
        index += 1
    capture.release()
    return runs[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("videos", type=Path, nargs="+")
    args = parser.parse_args()
    for video in args.videos:
        within, across = scene_changes(video)
        report = {
            "video": str(video),
            "within_a_face": {
                "median": round(float(np.median(within)), 1),
                "p99": round(float(np.percentile(within, 99)), 1),
                "max": round(max(within), 1),
            },
            "across_faces": [round(v, 1) for v in across],
            "full_searches": {"checked": full_searches(video, True),
                              "unchecked": full_searches(video, False)},
        }  # fmt: skip
        print(json.dumps(report))


if __name__ == "__main__":
    main()
