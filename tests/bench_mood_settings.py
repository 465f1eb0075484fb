"""The host's mood settings against other ones, where the listener meets them: the host's path.

    python tests/bench_mood_settings.py --data ../shared/datasets/fer2013/val --seed 9 \
        --switch-margin 0.2 --confirm 0.1 --dwell 1.0

`python -m training calibrate-mood` ranks settings on readings of every frame. The live host
reads fewer (the steady rate for a still face, host/vision/pipeline.py), and when it drops to
that rate depends on the mood having settled, so a setting chosen there is checked here: two
camera-like videos of real faces made with `--seed` (one face after another changing expression
every 4 s, and faces held still for a minute each, as calibrate-mood makes them), each run
through `moodtune bench` with the host's settings (host/vision/mood.py) and with the candidate.
Printed for each: frames processed, the latency from an expression change to the mood event
(median, p95), the changes missed, and the false switches a minute on the still faces. Use a
seed that calibrate-mood did not choose by.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import asdict, replace
from pathlib import Path

from host.commands import bench
from host.vision import pipeline
from host.vision.mood import MoodSettings, MoodTracker
from training.videos import make_video

CHANGES = (120, 4.0)  # faces, seconds each: 119 changes of expression
STILL = (20, 60.0)  # 20 minutes of faces held still


def figures(videos: dict[str, Path], settings: MoodSettings) -> dict:
    """`moodtune bench`'s mood figures for both videos, the host's tracker given `settings`."""
    pipeline.MoodTracker = lambda: MoodTracker(settings)  # type: ignore[assignment,misc]
    changes, still = (bench.bench(str(videos[name])) for name in ("changes", "still"))
    return {
        "settings": asdict(settings),
        "frames_processed": changes["frames_processed"] + still["frames_processed"],
        "latency_s": changes["mood"]["latency_s"],
        "changes": changes["mood"]["changes"],
        "changes_missed": changes["mood"]["changes_missed"],
        "false_switches_per_minute_still": still["mood"]["false_switches_per_minute"],
        "false_switches_per_minute_changes": changes["mood"]["false_switches_per_minute"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="FER-2013-style folder of labelled faces")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--half-life", type=float, default=None)
    parser.add_argument("--switch-margin", type=float, default=None)
    parser.add_argument("--confirm", type=float, default=None)
    parser.add_argument("--dwell", type=float, default=None)
    args = parser.parse_args()
    given = {
        "half_life_s": args.half_life,
        "switch_margin": args.switch_margin,
        "confirm_s": args.confirm,
        "min_dwell_s": args.dwell,
    }
    candidate = replace(MoodSettings(), **{k: v for k, v in given.items() if v is not None})
    with tempfile.TemporaryDirectory() as tmp:
        videos = {"changes": Path(tmp) / "changes.mp4", "still": Path(tmp) / "still.mp4"}
        make_video(args.data, videos["changes"], *CHANGES, seed=args.seed)
        make_video(args.data, videos["still"], *STILL, seed=args.seed + 1)
        report = {
            "host": figures(videos, MoodSettings()),
            "candidate": figures(videos, candidate),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
