"""What reading fewer frames costs the mood: the host's frame rates against the full rate.

    python tests/bench_frame_rates.py VIDEO [VIDEO ...]

Each VIDEO (with its timeline, `VIDEO.json`, from `python -m training make-video`) goes through
`moodtune bench` twice: as the host reads a camera (the steady rate for a still face, the scene
check with no face in view; host/vision/pipeline.py, faces.py), and with every frame read at
DEFAULT_FPS and every no-face frame searched. Printed: frames processed each way; for every
change of face that both settled on the same mood, the latency each way (median, p95, the mean
and largest difference); and the changes missed and false switches each way.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from host.commands import bench
from host.vision import faces, pipeline


def first_moods(video: Path) -> tuple[dict[int, tuple[str, float]], dict]:
    """For each segment after the first, the first mood told in it and its latency; the report."""
    report = bench.bench(str(video))
    segments = json.loads(Path(f"{video}.json").read_text())["segments"]
    told = {}
    for index, segment in enumerate(segments[1:], start=1):
        start, end = segment["start_s"], segment["end_s"]
        inside = [e for e in report["events"] if start <= e["t"] < end and e["emotion"]]
        if inside:
            told[index] = (inside[0]["emotion"], round(inside[0]["t"] - start, 2))
    return told, report


def full_rate() -> None:
    """Every frame at DEFAULT_FPS, every no-face frame searched."""
    pipeline.STEADY_FPS = pipeline.DEFAULT_FPS
    pipeline.SEARCH_FPS = pipeline.DEFAULT_FPS
    faces.FaceFinder._scene_changed = lambda self, gray: True  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("videos", type=Path, nargs="+")
    args = parser.parse_args()
    host = {video: first_moods(video) for video in args.videos}
    full_rate()
    full = {video: first_moods(video) for video in args.videos}
    pairs = np.array(
        [
            (full[video][0][k][1], host[video][0][k][1])
            for video in args.videos
            for k in full[video][0]
            if k in host[video][0] and host[video][0][k][0] == full[video][0][k][0]
        ]
    )
    ways = {"host's rates": host, "full rate": full}
    print(
        json.dumps(
            {
                "frames_processed": {
                    way: sum(r[1]["frames_processed"] for r in runs.values())
                    for way, runs in ways.items()
                },
                "paired_changes": len(pairs),
                "latency_s": {
                    way: {
                        "median": float(np.median(column)),
                        "p95": float(np.percentile(column, 95)),
                    }
                    for way, column in (("full rate", pairs[:, 0]), ("host's rates", pairs[:, 1]))
                },
                "latency_difference_s": {
                    "mean": round(float((pairs[:, 1] - pairs[:, 0]).mean()), 3),
                    "largest": round(float((pairs[:, 1] - pairs[:, 0]).max()), 2),
                },
                "changes_missed": {
                    way: sum(r[1]["mood"]["changes_missed"] for r in runs.values())
                    for way, runs in ways.items()
                },
                "false_switches": {
                    way: sum(r[1]["mood"]["false_switches"] for r in runs.values())
                    for way, runs in ways.items()
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
