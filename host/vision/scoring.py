"""Scoring the mood tracker against a video's timeline of expressions.

`moodtune bench` and `python -m training calibrate-mood` both call this, so the figures the
README quotes and the ones the mood constants were chosen by are computed the same way.
"""

from __future__ import annotations

import numpy as np

from host.vocabulary import EMOTIONS


def score_mood(events: list[dict], probabilities: list, timeline: dict, fps: float) -> dict:
    """Mood latency per expression change, and false switches per minute, against a timeline.

    The target after a change is what the model itself reads in the new segment (the label with
    the highest mean probability over its frames), so the latency measures the tracker, not the
    model's accuracy.
    """
    segments = timeline["segments"]
    latencies, missed, false_switches, previous_target = [], 0, 0, None
    for segment in segments:
        start, end = segment["start_s"], segment["end_s"]
        frames = [
            p for i, p in enumerate(probabilities) if start <= i / fps < end and p is not None
        ]
        target = EMOTIONS[int(np.argmax(np.mean(frames, axis=0)))] if frames else None
        inside = [e for e in events if start <= e["t"] < end and e["emotion"] is not None]
        hit = next((e for e in inside if e["emotion"] == target), None)
        if target is not None and target != previous_target and start > 0:
            if hit is None:
                missed += 1
            else:
                latencies.append(hit["t"] - start)
        # Settling on the segment's reading is expected; any other switch inside it is false.
        false_switches += sum(1 for e in inside if e is not hit)
        previous_target = target
    minutes = segments[-1]["end_s"] / 60 if segments else 0
    return {
        "changes": len(latencies) + missed,
        "latency_s": spread([1e3 * s for s in latencies], scale=1e-3),
        "changes_missed": missed,
        "false_switches": false_switches,
        "false_switches_per_minute": round(false_switches / minutes, 2) if minutes else None,
    }


def spread(values: list[float], scale: float = 1.0) -> dict:
    """Median and p95 of `values` times `scale`, rounded."""
    if not values:
        return {"median": None, "p95": None}
    return {
        "median": round(float(np.median(values)) * scale, 3),
        "p95": round(float(np.percentile(values, 95)) * scale, 3),
    }
