"""The mood tracker on probabilities the real model produced on real faces (see
record_mood_sequences.py): calm on a steady face, quick on a real change."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from host.vision.mood import MoodSettings, MoodTracker
from host.vision.pipeline import DEFAULT_FPS, STEADY_FPS
from host.vocabulary import EMOTIONS

MOOD_DATA = Path(__file__).resolve().parent / "data" / "mood"


def replay(name: str, settings: MoodSettings | None = None):
    """Feed a recorded sequence to a fresh tracker; the moods it announced, and the recording."""
    data = np.load(MOOD_DATA / f"{name}.npz")
    tracker = MoodTracker(settings)
    moods = []
    for t, p in zip(data["times"], data["probabilities"], strict=True):
        mood = tracker.update(float(t), None if np.isnan(p[0]) else p)
        if mood is not None:
            moods.append(mood)
    return moods, data


def one_hot(label: str, strength: float = 0.7) -> np.ndarray:
    p = np.full(len(EMOTIONS), (1 - strength) / (len(EMOTIONS) - 1))
    p[EMOTIONS.index(label)] = strength
    return p


def test_steady_face_settles_once_and_stays_calm():
    moods, data = replay("steady")
    minutes = data["times"][-1] / 60
    assert moods, "a face held for a minute must produce a mood"
    switches_after_first = len(moods) - 1
    assert switches_after_first / minutes <= 1.0


def test_changing_faces_produce_a_mood_for_most_expressions():
    moods, _ = replay("changes")
    announced = [m for m in moods if m.emotion is not None]
    assert len(announced) >= 3
    assert len({m.emotion for m in announced}) >= 2


@pytest.mark.parametrize("fps", [DEFAULT_FPS, STEADY_FPS], ids=["full rate", "steady rate"])
def test_a_single_odd_frame_does_not_switch(fps: float):
    """Nor at the steady rate, where the host reads a still face's frames further apart."""
    tracker = MoodTracker()
    moods = [tracker.update(i / fps, one_hot("happy")) for i in range(40)]
    assert [m.emotion for m in moods if m] == ["happy"]
    odd_at = 40 / fps
    assert tracker.update(odd_at, one_hot("angry", 0.95)) is None
    later = [tracker.update(odd_at + (i + 1) / fps, one_hot("happy")) for i in range(20)]
    assert not any(later)


def test_a_real_change_switches_within_the_latency_budget():
    tracker = MoodTracker()
    for i in range(40):
        tracker.update(i / 10, one_hot("neutral"))
    change_at = 4.0
    switched = None
    for i in range(30):
        t = change_at + i / 10
        mood = tracker.update(t, one_hot("surprise"))
        if mood is not None:
            switched = mood
            break
    assert switched is not None and switched.emotion == "surprise"
    assert switched.timestamp - change_at <= 0.7


def test_face_gone_for_a_few_seconds_becomes_no_face():
    settings = MoodSettings()
    tracker = MoodTracker(settings)
    for i in range(20):
        tracker.update(i / 10, one_hot("sad"))
    assert tracker.update(2.5, None) is None  # a moment without a face changes nothing
    gone = None
    t = 2.0
    while gone is None and t < 10:
        t += 0.1
        gone = tracker.update(t, None)
    assert gone is not None and gone.emotion is None and not gone.face
    assert t - 1.9 == pytest.approx(settings.no_face_after_s, abs=0.15)
