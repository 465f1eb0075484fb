"""Time the first tracks for a cached (mood, language): `python -m host.music.bench`.

    python -m host.music.bench [--emotion sad] [--language hi] [--mode match] [--runs 30]

One untimed recommendation warms the store in the data directory (MOODTUNE_DATA_DIR, else the
user's), from the network if the cache lacks it. Then each timed run opens a copy of that
warmed database, so the history one run writes does not shrink the next run's choice, and
times one `Recommender.recommend` call. Prints the median and the 90th percentile.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from host.music.errors import MusicUnavailable, UnknownLanguage
from host.music.recommender import Recommender
from host.music.store import DB_NAME, Store
from host.paths import data_dir
from host.vocabulary import EMOTIONS, MODES


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m host.music.bench", description=__doc__)
    parser.add_argument("--emotion", default="sad", choices=EMOTIONS)
    parser.add_argument("--language", default="hi")
    parser.add_argument("--mode", default="match", choices=MODES)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)

    warmed = data_dir() / DB_NAME
    store = Store(warmed)
    try:
        warm = Recommender(store)
        warm.recommend(args.emotion, args.language, args.mode, args.count)
        warm.refresh_due()
    except (MusicUnavailable, UnknownLanguage) as exc:
        print(f"bench: cannot warm the cache: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()

    timings_ms = []
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / DB_NAME
        for _ in range(args.runs):
            shutil.copyfile(warmed, copy)
            run_store = Store(copy)
            recommender = Recommender(run_store)
            started = time.perf_counter()
            tracks = recommender.recommend(args.emotion, args.language, args.mode, args.count)
            timings_ms.append((time.perf_counter() - started) * 1000)
            run_store.close()
    deciles = statistics.quantiles(timings_ms, n=10)
    print(
        f"recommend {args.emotion}/{args.language}/{args.mode}, {len(tracks)} tracks from cache: "
        f"median {statistics.median(timings_ms):.1f} ms, p90 {deciles[-1]:.1f} ms "
        f"over {args.runs} runs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
