"""Does fetching music slow the camera path? `moodtune bench` with and without a busy recommender.

    python tests/bench_music_load.py VIDEO

Runs the per-frame pipeline benchmark on VIDEO twice in this process: alone, then while a
music worker thread keeps recommending from cold caches (ytmusicapi parsing recorded YouTube
Music responses, the CPU-heavy part of a fetch), as the live host would during a mood change.
Prints both runs' CPU and wall milliseconds per frame.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ytmusic_replay import Replay, replay_client

from host.commands.bench import bench
from host.music import Recommender
from host.music.store import DB_NAME, Store
from host.vocabulary import EMOTIONS


def keep_recommending(stop: threading.Event, counter: list[int]) -> None:
    """Recommend for every emotion in turn, each time from an empty store, until `stop`."""
    with tempfile.TemporaryDirectory() as tmp:
        while not stop.is_set():
            store = Store(Path(tmp) / f"{counter[0]}-{DB_NAME}")
            recommender = Recommender(store, replay_client(Replay()))
            recommender.recommend(EMOTIONS[counter[0] % len(EMOTIONS)], "hi", "lift")
            store.close()
            counter[0] += 1


def main(video: str) -> None:
    quiet = bench(video)
    stop, counter = threading.Event(), [0]
    worker = threading.Thread(target=keep_recommending, args=(stop, counter), daemon=True)
    worker.start()
    busy = bench(video)
    stop.set()
    worker.join()
    for name, report in (("alone", quiet), (f"with {counter[0]} cold fetches", busy)):
        figures = {k: report[k] for k in ("cpu_ms_per_frame", "wall_ms_per_frame")}
        print(f"{name}: {json.dumps(figures)}")


if __name__ == "__main__":
    main(sys.argv[1])
