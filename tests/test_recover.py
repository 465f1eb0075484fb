"""Recovering the shipped ensemble's networks from its int8 file, as Keras models to train on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from readings import probabilities

from training.data import load_image_folder

REPO = Path(__file__).resolve().parent.parent


def shipped_members(model_dir: Path) -> int:
    """How many networks the shipped model averages, as its contract records."""
    return json.loads((model_dir / "model.json").read_text())["ensemble_members"]


def test_the_recovered_networks_read_faces_as_the_shipped_model_does(
    shipped_networks, sample_faces, model_dir
):
    from training.distill import ExportedTeacher

    models = [keras.models.load_model(path) for path in shipped_networks]
    assert len(models) == shipped_members(model_dir)
    for model in models:
        assert model.count_params() == 1_970_983  # G's shape: blocks 1,1,1,1
    mean = np.mean([probabilities(m, sample_faces) for m in models], axis=0)
    shipped = ExportedTeacher(model_dir, cache_dir=None).probabilities(sample_faces)
    # The shipped file is int8, so the float networks differ from it by its rounding only.
    assert np.mean(mean.argmax(axis=1) == shipped.argmax(axis=1)) >= 0.95
    assert np.abs(mean - shipped).mean() < 0.02


def test_a_recovered_network_computes_the_same_in_training_as_in_inference(
    shipped_networks, sample_faces
):
    """Its batch norms normalise a batch as their moving statistics do, so training starts
    from the network that was shipped, not from a scrambled one."""
    model = keras.models.load_model(shipped_networks[0])
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dropout):
            layer.rate = 0.0
    inference = probabilities(model, sample_faces)
    training = probabilities(model, sample_faces, training=True)
    assert np.abs(training - inference).mean() < 0.05
    assert np.mean(training.argmax(axis=1) == inference.argmax(axis=1)) >= 0.9


def test_a_network_read_on_its_mirror_image_too_is_recovered_once_in_its_own_shape(
    tmp_path, sample_faces, fer_sample
):
    from training.architectures import build_moodnet
    from training.distill import ExportedTeacher
    from training.export import export
    from training.recover import recover

    network = build_moodnet(stem_width=8, widths=(8, 16), blocks=(1, 0))
    network.save(tmp_path / "small.keras")
    calibration = load_image_folder(fer_sample / "train")
    export([tmp_path / "small.keras"], tmp_path / "export", True, True, calibration)
    (path,) = recover(tmp_path / "export", sample_faces, tmp_path / "out")
    model = keras.models.load_model(path)
    assert model.count_params() == network.count_params()
    mirrored = (
        probabilities(model, sample_faces) + probabilities(model, sample_faces[:, :, ::-1])
    ) / 2
    shipped = ExportedTeacher(tmp_path / "export", cache_dir=None).probabilities(sample_faces)
    assert np.abs(mirrored - shipped).mean() < 0.02


def test_the_recovered_networks_teach_as_trained_networks_do(shipped_networks, model_dir):
    """In a process of its own, as a sitting's teacher folder is read."""
    code = (
        "import sys; from training.distill import load_teacher; "
        "teacher = load_teacher(sys.argv[1], None); print(len(teacher.networks))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(shipped_networks[0].parent)],
        capture_output=True, text=True, cwd=REPO, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(shipped_members(model_dir))


def test_a_model_without_moodnets_shape_is_refused_by_name(tmp_path, sample_faces):
    import tensorflow as tf

    from training.recover import RecoveryError, recover

    inputs = keras.Input((48, 48, 1))
    outputs = keras.layers.Dense(7)(keras.layers.Flatten()(inputs))
    converter = tf.lite.TFLiteConverter.from_keras_model(keras.Model(inputs, outputs))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([face[None]] for face in sample_faces[:8])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    (tmp_path / "emotion.tflite").write_bytes(converter.convert())
    with pytest.raises(RecoveryError, match="moodnet"):
        recover(tmp_path, sample_faces, tmp_path / "out")


def test_the_recover_command_writes_and_measures_each_network(fer_sample, model_dir, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "training", "recover", "--data", str(fer_sample / "train"),
         "--out", str(tmp_path), "--val", str(fer_sample / "val")],
        capture_output=True, text=True, cwd=REPO, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    members = shipped_members(model_dir)
    expected = [f"member_{number}.keras" for number in range(1, members + 1)]
    assert sorted(p.name for p in tmp_path.iterdir()) == expected
    assert result.stdout.count("val accuracy") == members
