"""Choose the mood tracker's constants by measurement.

    python -m training calibrate-mood --data ../shared/datasets/fer2013/val --seeds 1,2,3,4

Builds two camera-like videos of real faces (training/videos.py) per seed: faces that change
expression every few seconds, and steady faces held for a minute each. The host's pipeline reads
every frame once; each seed's videos are then joined end to end, as one long sitting, and each
candidate setting of host/vision/mood.py replays those readings, scored as `moodtune bench`
scores them: latency from an expression change to the mood event, and false switches per minute
on the steady faces. One seed's videos hold about 20 changes and 5 steady minutes, so its p95
rests on the slowest one or two changes; several seeds give figures that two models can be
compared by.
"""

from __future__ import annotations

import itertools
import json
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from host.vision.emotion import MODEL_DIR, EmotionModel
from host.vision.mood import MoodSettings, MoodTracker
from host.vision.pipeline import FacePipeline
from host.vision.scoring import score_mood
from training.videos import make_video

GRID = {
    "half_life_s": (0.15, 0.25, 0.4),
    "switch_margin": (0.05, 0.1, 0.2),
    "confirm_s": (0.1, 0.2, 0.4),
    "min_dwell_s": (1.0, 2.0),
}
MAX_FALSE_SWITCHES_PER_MINUTE = 1.0
VIDEOS = {  # name: (faces, seconds each, seed offset)
    "changes": (30, 4.0, 0),
    "steady": (5, 60.0, 1),
}


def read_video(video: Path, model: EmotionModel) -> list[np.ndarray | None]:
    """The model's probabilities for every frame (None where no face was found)."""
    pipeline = FacePipeline(model)
    capture = cv2.VideoCapture(str(video))
    readings: list[np.ndarray | None] = []
    while True:
        ok, image = capture.read()
        if not ok:
            return readings
        readings.append(pipeline.process(image, 0.0).probabilities)


def replay(readings: list, settings: MoodSettings, fps: float) -> list[dict]:
    """The mood events a tracker with `settings` announces over the readings."""
    tracker, events = MoodTracker(settings), []
    for index, probabilities in enumerate(readings):
        mood = tracker.update(index / fps, probabilities)
        if mood is not None:
            events.append({"t": index / fps, "emotion": mood.emotion})
    return events


def calibrate(
    data_dir: str, model_dir: str | Path = MODEL_DIR, seeds: tuple[int, ...] = (0,)
) -> list[dict]:
    """One row per setting: its latency and false-switch figures, fastest acceptable first; the
    host's own settings (host/vision/mood.py) are the row marked `"host": true`."""
    [readings], timelines = mood_readings(data_dir, [model_dir], seeds)
    rows = []
    for values in itertools.product(*GRID.values()):
        settings = replace(MoodSettings(), **dict(zip(GRID, values, strict=True)))
        rows.append(score_settings(readings, timelines, settings))
    return sorted(rows, key=_rank)


def host_mood(
    data_dir: str | Path, model_dirs: Sequence[str | Path], seeds: tuple[int, ...]
) -> list[dict]:
    """For each model, the row of the host's own settings: how calmly and quickly its readings
    move the mood the listener hears, over the same videos (the shipping rule compares two
    models by it)."""
    readings, timelines = mood_readings(data_dir, model_dirs, seeds)
    return [score_settings(each, timelines, MoodSettings()) for each in readings]


def mood_readings(
    data_dir: str | Path, model_dirs: Sequence[str | Path], seeds: tuple[int, ...]
) -> tuple[list[dict[str, list]], dict[str, dict]]:
    """Each model's readings of each kind of video (VIDEOS), the seeds' videos joined end to
    end, and their joined timelines. Each video is made once and read by every model."""
    models = [EmotionModel.load(model_dir) for model_dir in model_dirs]
    readings: list[dict[str, list]] = [{name: [] for name in VIDEOS} for _ in models]
    timelines: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed, (name, (faces, seconds, offset)) in itertools.product(seeds, VIDEOS.items()):
            video = Path(tmp) / f"{name}_{seed}.mp4"
            make_video(data_dir, video, faces, seconds, seed + offset)
            timeline = json.loads(video.with_name(f"{video.name}.json").read_text())
            timelines[name] = joined(timelines.get(name), timeline, len(readings[0][name]))
            for model, each in zip(models, readings, strict=True):
                each[name] += read_video(video, model)
    return readings, timelines


def score_settings(readings: dict, timelines: dict, settings: MoodSettings) -> dict:
    """`settings`' figures over the readings, as `moodtune bench` scores a video."""
    scores = {
        name: score_mood(replay(readings[name], settings, fps := timelines[name]["fps"]),
                         readings[name], timelines[name], fps)
        for name in VIDEOS
    }  # fmt: skip
    return {
        **{name: getattr(settings, name) for name in GRID},
        "latency_median_s": scores["changes"]["latency_s"]["median"],
        "latency_p95_s": scores["changes"]["latency_s"]["p95"],
        "changes_missed": scores["changes"]["changes_missed"],
        "changes": scores["changes"]["changes"],
        "false_switches_per_minute": scores["steady"]["false_switches_per_minute"],
        "host": settings == MoodSettings(),
    }


def joined(before: dict | None, timeline: dict, frames_before: int) -> dict:
    """`timeline` appended to `before` (None for the first), its segments shifted past the
    `frames_before` frames already read."""
    if before is None:
        return timeline
    shift = frames_before / before["fps"]
    moved = [
        {**s, "start_s": s["start_s"] + shift, "end_s": s["end_s"] + shift}
        for s in timeline["segments"]
    ]
    return {**before, "segments": before["segments"] + moved}


def _rank(row: dict) -> tuple[bool, float]:
    """Settings within the false-switch budget first, then by p95 latency."""
    calm = row["false_switches_per_minute"] <= MAX_FALSE_SWITCHES_PER_MINUTE
    return (not calm, row["latency_p95_s"] or 99.0)
