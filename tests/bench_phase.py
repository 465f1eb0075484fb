"""Which speed phase this machine is in: the shipped model's time a face, alone.

    python tests/bench_phase.py

The development machine alternates, for minutes at a time, between a fast phase and one about
1.8 times slower. Run before and after a sitting of side-by-side measurements to say which phase
it fell in: the median of five runs of 200 faces, one thread (about 0.75 ms fast and 1.2 ms slow
for the two-network model of 2026-11).
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from host.vision.emotion import EmotionModel

RUNS, FACES = 5, 200


def main() -> None:
    model = EmotionModel.load()
    crop = np.random.default_rng(0).integers(0, 256, (48, 48), dtype=np.uint8)
    for _ in range(50):
        model.predict(crop)
    runs = []
    for _ in range(RUNS):
        started = time.perf_counter()
        for _ in range(FACES):
            model.predict(crop)
        runs.append((time.perf_counter() - started) / FACES * 1000)
    print(f"model alone: {statistics.median(runs):.3f} ms a face (median of {RUNS} x {FACES})")


if __name__ == "__main__":
    main()
