"""A wheel built from the checkout is a whole host: the model travels inside it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_a_wheel_carries_the_model_and_the_host_loads_it_from_there(tmp_path):
    # Built from a copy: setuptools writes build/ and *.egg-info into the tree it builds.
    source = shutil.copytree(
        REPO, tmp_path / "source",
        ignore=shutil.ignore_patterns(".*", "runs", "build", "*.egg-info", "__pycache__", "tests"),
    )  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(tmp_path)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    [wheel] = tmp_path.glob("moodtune-*.whl")
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    assert (site / "host" / "model" / "emotion.tflite").read_bytes() == (
        REPO / "model" / "emotion.tflite"
    ).read_bytes()
    loaded = subprocess.run(
        [sys.executable, "-c",
         "from host.vision.emotion import MODEL_DIR, EmotionModel; "
         "EmotionModel.load(); print(MODEL_DIR)"],
        cwd=tmp_path, env={"PYTHONPATH": str(site)}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    assert Path(loaded.stdout.strip()) == site / "host" / "model"
