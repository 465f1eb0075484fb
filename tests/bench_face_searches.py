"""Where the face finder's time goes: its Haar searches and the follower, by kind, on a video.

    python tests/bench_face_searches.py VIDEO [--every N]

Every Nth frame of VIDEO (N=3: a 30 fps video watched at 10 fps, as the host does) goes through
one FaceFinder. Printed: for each kind of work (the follower, the tracking search near the last
face, the full-frame search, the turned-face search) how often it ran and its median and mean
wall milliseconds, the follower's hits, and the finder's whole time per frame.
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
    parser.add_argument("--every", type=int, default=3)
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
    frame_ms, index = [], 0
    while (read := capture.read())[0]:
        if index % args.every == 0:
            grey = cv2.cvtColor(read[1], cv2.COLOR_BGR2GRAY)
            started = time.perf_counter()
            finder.find(grey)
            frame_ms.append((time.perf_counter() - started) * 1000)
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
