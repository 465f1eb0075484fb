"""Which speed phase this machine is in: the shipped model's time a face, alone, beside what its
export recorded.

    python tests/bench_phase.py

The development machine alternates, for minutes at a time, between a fast phase and one about
1.8 times slower, and at times runs slower still. Run before and after a sitting of side-by-side
measurements to say which phase it fell in. The timing is the export's own
(`training.export.measure_latency_ms`: five sittings of 200 faces, one thread), printed beside
the figure `model/model.json` recorded when the model was exported, whose fastest and slowest
sitting medians show the two usual phases.
"""

from __future__ import annotations

import json

from host.vision.emotion import CONTRACT_FILE, MODEL_DIR
from training.export import measure_latency_ms

RUNS, SITTINGS = 200, 5


def main() -> None:
    now = measure_latency_ms(MODEL_DIR, runs=RUNS, repeats=SITTINGS)
    recorded = json.loads((MODEL_DIR / CONTRACT_FILE).read_text())["metrics"]
    at_export = recorded["ms_per_face_one_thread"]
    print(f"model alone: {described(now)}; model.json, at export: {described(at_export)}")


def described(latency: dict) -> str:
    """`measure_latency_ms`'s figures as one phrase."""
    fastest, slowest = latency["sitting_median_range"]
    return f"{latency['median']:.3f} ms a face (sitting medians {fastest:.3f}-{slowest:.3f})"


if __name__ == "__main__":
    main()
