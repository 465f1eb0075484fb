"""How long a calibration takes the listener: `calibrate` sent → `calibrated` received, through
the real native host with a video of a resting face as the camera.

    python tests/bench_calibration.py [--runs 5]

Prints each run and the median, in seconds (the collection itself is CALIBRATION_S).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from test_native_host import HostProcess  # noqa: E402

from training.videos import make_video  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        faces = Path(tmp) / "faces" / "neutral"
        faces.mkdir(parents=True)
        for photo in sorted((HERE / "data" / "faces_by_person" / "neutral").glob("Bill_Graham__*")):
            shutil.copy(photo, faces)
        video = Path(tmp) / "resting.mp4"
        make_video(faces.parent, video, faces=3, seconds=4.0, seed=2)
        host = HostProcess(Path(tmp) / "data")
        host.wait_for("hello")
        host.send({"type": "set_profile", "profile": "0b5e2a44-3c1d-4f0e-9a77-2d6c8e1f4b90"})
        host.wait_for("calibrated")
        host.send({"type": "start", "camera": str(video)})
        host.wait_for("status", state="camera")
        seconds = []
        for _ in range(args.runs):
            started = time.monotonic()
            host.send({"type": "calibrate"})
            host.wait_for("calibrated")
            seconds.append(time.monotonic() - started)
            print(f"calibrate → calibrated: {seconds[-1]:.2f} s", flush=True)
        host.close_stdin_and_wait()
    print(f"median {statistics.median(seconds):.2f} s, max {max(seconds):.2f} s over {args.runs}")


if __name__ == "__main__":
    main()
