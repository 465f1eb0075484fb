"""Where the face finder's time goes: its Haar searches and the follower, by kind, on a video.

    python tests/bench_face_searches.py VIDEO

VIDEO's frames go through one FaceFinder as the live host reads them: DEFAULT_FPS with a face,
SEARCH_FPS without (the steady rate, which needs the model's readings, is left out). Printed:
for each kind of work (the follower, the tracking search near the last face, the full-frame
search, the turned-face search) how often it ran and its median and mean wall milliseconds, the
follower's hits, and the finder's whole time per frame.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from host.vision import faces
from host.vision.pipeline import DEFAULT_FPS, SEARCH_FPS


def timed(kind: str, work: Callable, spent: dict[str, list[float]]) -> Callable:
    def run(*args, **kwargs):
        started = time.perf_counter()
        result = work(*args, **kwargs)
        spent[kind].append((time.perf_counter() - started) * 1000)
        if kind == "follow":
            spent["follow hits"].append(float(result is not None))
        return result

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", type=Path)
    args = parser.parse_args()
    spent: dict[str, list[float]] = defaultdict(list)
    finder = faces.FaceFinder()
    search_near = finder._search_near

    def searched_near(gray, last, search=faces.TRACKING, *rest):
        kind = "turned" if search is faces.TURNED else "near"
        return timed(kind, search_near, spent)(gray, last, search, *rest)

    finder._search_near = searched_near  # type: ignore[method-assign]
    finder.detect = timed("full", finder.detect, spent)  # type: ignore[method-assign]
    finder._follow = timed("follow", finder._follow, spent)  # type: ignore[method-assign]
    capture = cv2.VideoCapture(str(args.video))
    fps = capture.get(cv2.CAP_PROP_FPS) or DEFAULT_FPS
    frame_ms, index, due = [], 0, 0.0
    while (read := capture.read())[0]:
        if index / fps >= due - 1e-6:
            grey = cv2.cvtColor(read[1], cv2.COLOR_BGR2GRAY)
            started = time.perf_counter()
            box = finder.find(grey)
            frame_ms.append((time.perf_counter() - started) * 1000)
            due += 1 / (DEFAULT_FPS if box is not None else SEARCH_FPS)
        index += 1
    capture.release()
    report = {
        kind: {"runs": len(ms), "median_ms": round(float(np.median(ms)), 3),
               "mean_ms": round(float(np.mean(ms)), 3)}
        for kind, ms in spent.items() if kind != "follow hits"
    }  # fmt: skip
    report["follow hits"] = int(sum(spent["follow hits"]))
    report["frames"] = len(frame_ms)
    report["finder_ms_per_frame"] = round(float(np.mean(frame_ms)), 3)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
