"""The shipped model through LiteRT, and the errors a broken installation gets."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from host.vision.emotion import EmotionModel, ModelError
from host.vocabulary import EMOTIONS
from training.data import load_image_folder


def test_shipped_model_reads_real_faces(model_dir, fer_sample):
    model = EmotionModel.load(model_dir)
    sample = load_image_folder(fer_sample / "val")
    probabilities = np.stack([model.predict(image) for image in sample.images])
    assert probabilities.shape == (len(sample), len(EMOTIONS))
    assert np.allclose(probabilities.sum(1), 1, atol=1e-3)
    assert (probabilities.argmax(1) == sample.labels).mean() >= 0.4  # chance is 1/7


def test_host_never_imports_tensorflow(model_dir):
    code = (
        "import sys; from host.session import Session; "
        "from host.vision.emotion import EmotionModel; "
        f"EmotionModel.load({str(model_dir)!r}); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.fixture
def broken(model_dir, tmp_path):
    """A copy of the model folder that a test may damage."""
    return shutil.copytree(model_dir, tmp_path / "model")


def test_missing_model_file_is_named(broken):
    (broken / "emotion.tflite").unlink()
    with pytest.raises(ModelError, match=r"emotion\.tflite"):
        EmotionModel.load(broken)


def test_missing_contract_is_named(broken):
    (broken / "model.json").unlink()
    with pytest.raises(ModelError, match=r"model\.json"):
        EmotionModel.load(broken)


def test_mismatched_labels_are_refused(broken):
    contract = json.loads((broken / "model.json").read_text())
    contract["labels"] = list(reversed(contract["labels"]))
    (broken / "model.json").write_text(json.dumps(contract))
    with pytest.raises(ModelError, match="labels"):
        EmotionModel.load(broken)


def test_corrupt_model_file_is_a_clear_error(broken):
    (broken / "emotion.tflite").write_bytes(b"not a flatbuffer at all")
    with pytest.raises(ModelError, match=r"emotion\.tflite"):
        EmotionModel.load(broken)
