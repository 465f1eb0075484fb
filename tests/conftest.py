"""Shared fixtures: a small sample of real FER-2013 faces and camera-like videos made from them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ytmusic_replay import Replay

from training.data import load_image_folder
from training.videos import make_video

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
FER_SAMPLE = TESTS / "data" / "fer_sample"
MODEL_DIR = REPO / "model"


@pytest.fixture(scope="session")
def fer_sample() -> Path:
    """train/ and val/ folders of real FER-2013 faces, a few per class."""
    return FER_SAMPLE


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The shipped model folder (emotion.tflite + model.json)."""
    return MODEL_DIR


@pytest.fixture(scope="session")
def sample_faces(fer_sample) -> np.ndarray:
    """The sample's real faces, train then val, as the networks take them: (N, 48, 48, 1)."""
    images = [load_image_folder(fer_sample / split).images for split in ("train", "val")]
    return np.concatenate(images).astype(np.float32)[..., None]


@pytest.fixture(scope="session")
def shipped_networks(model_dir, sample_faces, tmp_path_factory) -> list[Path]:
    """The shipped model's networks, read back from its int8 file as Keras models."""
    from training.recover import recover

    return recover(model_dir, sample_faces, tmp_path_factory.mktemp("recovered"))


@pytest.fixture(scope="session")
def face_video(tmp_path_factory) -> Path:
    """A 640x480 video of real faces, each held for 2 s, with its timeline JSON beside it."""
    path = tmp_path_factory.mktemp("video") / "faces.mp4"
    make_video(FER_SAMPLE / "val", path, faces=5, seconds=2.0, seed=1)
    return path


@pytest.fixture
def replay() -> Replay:
    """A requests adapter answering ytmusicapi from recorded YouTube Music responses."""
    return Replay()
