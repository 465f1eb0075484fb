"""Choosing the mood tracker's constants over several videos joined into one sitting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_a_second_videos_changes_are_scored_where_its_frames_were_replayed():
    from training.mood_calibration import joined

    first = {"fps": 10.0, "segments": [{"start_s": 0.0, "end_s": 4.0, "emotion": "happy"}]}
    second = {"fps": 10.0, "segments": [{"start_s": 0.0, "end_s": 4.0, "emotion": "sad"}]}
    both = joined(joined(None, first, 0), second, frames_before=41)
    assert [(s["start_s"], s["end_s"], s["emotion"]) for s in both["segments"]] == [
        (0.0, 4.0, "happy"),
        (4.1, 8.1, "sad"),  # its first frame is replayed as frame 41, at 4.1 s
    ]
    assert first["segments"] == [{"start_s": 0.0, "end_s": 4.0, "emotion": "happy"}]


def test_seeds_that_are_not_numbers_are_named(fer_sample):
    result = subprocess.run(
        [sys.executable, "-m", "training", "calibrate-mood", "--data", str(fer_sample / "val"),
         "--seeds", "1,two"],
        capture_output=True, text=True, cwd=REPO, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--seeds takes whole numbers separated by commas, not '1,two'" in result.stderr
