"""Benchmark: the real host against a misbehaving YouTube Music, each failure mode N times.

    python tests/bench_network.py [--runs 3] [--modes trickle,hang,...]

Prints, per mode, the median and worst of: `pause` to the `paused` status, a ping to its pong
(both sent while the fetch is under way), end of input to process exit, and the host's peak
resident memory while the fetch ran. Targets: pause <= 1 s, exit <= 2 s, RSS <= 200 MB through
the 300 MB answer. The stand-in is described in tests/ytmusic_server.py.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ytmusic_server import MODES, run_scenario

VIDEO = Path(__file__).resolve().parent.parent / "host" / "data" / "sample.mp4"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--modes", default=",".join(MODES))
    args = parser.parse_args()
    print(f"{'mode':<12} {'pause s':>14} {'pong s':>14} {'exit s':>14} {'peak RSS MB':>16}")
    for mode in args.modes.split(","):
        runs = []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as folder:
                runs.append(run_scenario(mode, Path(folder), VIDEO))

        def cell(values: list[float], digits: int = 2) -> str:
            return f"{statistics.median(values):.{digits}f} (max {max(values):.{digits}f})"

        print(
            f"{mode:<12} {cell([r.pause_s for r in runs]):>14} {cell([r.pong_s for r in runs]):>14}"
            f" {cell([r.exit_s for r in runs]):>14} {cell([r.peak_rss_mb for r in runs], 0):>16}"
            f"{'' if all(r.returncode == 0 for r in runs) else '  NONZERO EXIT'}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
