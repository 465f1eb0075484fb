"""Calibration to a listener's resting face, on what the real model read on real faces (see
record_calibration_sequences.py), and `python -m training evaluate --per-person`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from host.vision.calibration import (
    CALIBRATION_S,
    CAP,
    Calibration,
    CalibrationError,
    RestingFace,
)
from host.vision.faces import Box
from host.vision.mood import MoodTracker
from host.vocabulary import EMOTIONS

TESTS = Path(__file__).resolve().parent
SEQUENCES = TESTS / "data" / "calibration"
PEOPLE = TESTS / "data" / "faces_by_person"
REPO = TESTS.parent


def readings(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(timestamps, probabilities) of the frames with a face in one recorded sequence."""
    data = np.load(SEQUENCES / f"{name}.npz")
    found = ~np.isnan(data["probabilities"][:, 0])
    return data["times"][found], data["probabilities"][found].astype(np.float64)


def tops(probabilities: np.ndarray) -> list[str]:
    return [EMOTIONS[i] for i in probabilities.argmax(axis=1)]


def settled_mood(times: np.ndarray, probabilities: np.ndarray) -> str | None:
    tracker, mood = MoodTracker(), None
    for t, p in zip(times, probabilities, strict=True):
        change = tracker.update(float(t), p)
        if change is not None:
            mood = change.emotion
    return mood


def test_a_resting_face_read_as_sad_reads_as_neutral_once_calibrated():
    _, rest = readings("Bill_Graham_rest_a")
    times, unseen_rest = readings("Bill_Graham_rest_b")
    assert set(tops(unseen_rest)) == {"sad"}, "the recording no longer shows the bias"
    calibration = Calibration.from_resting(rest, made_at=0.0)
    calibrated = calibration.apply(unseen_rest)
    assert tops(calibrated).count("neutral") > len(calibrated) / 2
    assert settled_mood(times, unseen_rest) == "sad"
    assert settled_mood(times, calibrated) == "neutral"


def test_a_real_smile_still_wins_after_calibration():
    _, rest = readings("Bill_Graham_rest_a")
    times, smile = readings("Bill_Graham_happy")
    calibrated = Calibration.from_resting(rest, made_at=0.0).apply(smile)
    assert set(tops(calibrated)) == {"happy"}
    assert settled_mood(times, calibrated) == "happy"


def test_a_face_already_read_as_neutral_is_left_as_it_is():
    _, rest = readings("Alan_Greenspan_rest_a")
    calibration = Calibration.from_resting(rest, made_at=0.0)
    for name in ("Alan_Greenspan_rest_b", "Alan_Greenspan_happy"):
        _, probabilities = readings(name)
        assert tops(calibration.apply(probabilities)) == tops(probabilities)


def test_no_expression_is_pushed_out_entirely():
    certain_anger = np.full((20, len(EMOTIONS)), 1e-4)
    certain_anger[:, EMOTIONS.index("angry")] = 1.0
    calibration = Calibration.from_resting(certain_anger, made_at=0.0)
    assert calibration.offsets.max() == pytest.approx(CAP)
    anger = calibration.apply(certain_anger[0])
    assert anger.sum() == pytest.approx(1.0)
    assert anger.argmax() == EMOTIONS.index("angry"), "a face that certain still reads angry"


def test_a_calibration_survives_being_saved():
    _, rest = readings("Bill_Graham_rest_a")
    calibration = Calibration.from_resting(rest, made_at=1234.5)
    again = Calibration.from_json(json.loads(json.dumps(calibration.to_json())))
    assert again.made_at == 1234.5 and again.frames == len(rest)
    np.testing.assert_allclose(again.offsets, calibration.offsets, atol=1e-6)
    with pytest.raises(ValueError):
        Calibration.from_json({"offsets": [1.0, "x"], "made_at": 0, "frames": 1})


def collect(frames: list[tuple[Box | None, np.ndarray | None]], fps: float = 10.0) -> RestingFace:
    resting = RestingFace()
    for index, (box, probabilities) in enumerate(frames):
        resting.add(100.0 + index / fps, box, probabilities)
    return resting


def test_collecting_a_resting_face_takes_its_seconds_and_makes_a_calibration():
    _, rest = readings("Bill_Graham_rest_a")
    box = Box(200, 150, 170, 170)
    resting = collect([(box, p) for p in rest[:40]])
    assert not resting.done and resting.progress == pytest.approx(39 / 10 / CALIBRATION_S)
    resting = collect([(box, p) for p in rest[:51]])
    assert resting.done
    assert resting.finish(made_at=5.0).made_at == 5.0


@pytest.mark.parametrize(
    ("case", "code"),
    [("no face", "calibration_no_face"), ("moving", "calibration_unsteady"),
     ("half the time", "calibration_unsteady"), ("smiling", "calibration_expression")],
)  # fmt: skip
def test_a_resting_face_that_cannot_be_used_says_why(case, code):
    _, rest = readings("Bill_Graham_rest_a")
    _, smile = readings("Bill_Graham_happy")
    box = Box(200, 150, 170, 170)
    frames: list[tuple[Box | None, np.ndarray | None]] = {
        "no face": [(None, None)] * 51,
        "moving": [(Box(40 + 90 * (i % 5), 150, 170, 170), rest[i]) for i in range(51)],
        "half the time": [(box, rest[i]) if i % 2 else (None, None) for i in range(51)],
        "smiling": [(box, smile[i % len(smile)]) for i in range(51)],
    }[case]
    with pytest.raises(CalibrationError) as raised:
        collect(frames).finish(made_at=0.0)
    assert raised.value.code == code
    assert str(raised.value).endswith(".")
    if case == "smiling":
        assert "try again with your usual face" in str(raised.value)


def evaluate_per_person(*flags: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "training", "evaluate", "--data", str(PEOPLE), *flags, "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


def test_evaluate_per_person_scores_each_person_through_their_own_calibration():
    plain = evaluate_per_person()
    report = evaluate_per_person("--per-person")
    # Uncalibrated, the figures are exactly the usual ones.
    for field in ("n", "accuracy", "macro_f1", "recall", "confusion_matrix"):
        assert report[field] == plain[field]
    calibrated = report["calibrated"]
    assert {"n", "accuracy", "macro_f1", "recall", "confusion_matrix"} <= calibrated.keys()
    assert calibrated["n"] == report["n"] == 12
    assert report["people"] == 3
    # Clara Harris has no neutral photo: she is scored uncalibrated.
    assert report["people_calibrated"] == 2
    people = report["per_person"]
    assert people["Clara_Harris"]["accuracy_calibrated"] == people["Clara_Harris"]["accuracy"]
    # Bill Graham's neutral photos read as angry or sad; each, scored with a calibration from
    # his other two, reads as neutral.
    assert people["Bill_Graham"]["neutral_read_as_neutral"] == 0.0
    assert people["Bill_Graham"]["accuracy_calibrated"] > people["Bill_Graham"]["accuracy"]
    assert calibrated["recall"]["neutral"] > report["recall"]["neutral"]
    # Alan Greenspan's neutral photos already read as neutral: nothing of his gets worse.
    assert people["Alan_Greenspan"]["accuracy_calibrated"] >= people["Alan_Greenspan"]["accuracy"]


def test_evaluate_per_person_on_images_without_people_changes_nothing(fer_sample):
    done = subprocess.run(
        [sys.executable, "-m", "training", "evaluate", "--data", str(fer_sample / "val"),
         "--per-person", "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    report = json.loads(done.stdout)
    assert report["people_calibrated"] == 0
    assert report["calibrated"]["accuracy"] == report["accuracy"]
    assert report["calibrated"]["confusion_matrix"] == report["confusion_matrix"]
