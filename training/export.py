"""Export a trained Keras model to the shipped artifact: `emotion.tflite` + `model.json`.

The exported graph takes the raw 48x48 grayscale crop (float 0..255) and returns the seven
probabilities. With `flip_average` it also reads the mirrored face and averages the two, which
buys accuracy for a second pass. `int8` quantises weights and activations (inputs and outputs
stay float), calibrated on training faces.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np

from host.emotion import CONTRACT_FILE, MODEL_FILE
from host.faces import CROP_MARGIN, CROP_SIZE
from training import architectures  # noqa: F401  (registers Standardize for loading)
from training.data import LABELS, Dataset

CALIBRATION_IMAGES = 500


def inference_model(model: keras.Model, flip_average: bool) -> keras.Model:
    """`model` with a softmax on top, optionally averaged with its reading of the mirror image."""
    inputs = keras.Input(model.input_shape[1:], name="face")
    probabilities = keras.layers.Softmax()(model(inputs))
    if flip_average:
        mirrored = keras.layers.Lambda(lambda x: keras.ops.flip(x, axis=2))(inputs)
        mirror_probabilities = keras.layers.Softmax()(model(mirrored))
        probabilities = keras.layers.Average()([probabilities, mirror_probabilities])
    return keras.Model(inputs, probabilities, name="emotion")


def to_tflite(model: keras.Model, int8: bool, calibration: Dataset | None = None) -> bytes:
    """The model as a .tflite flatbuffer (needs the TensorFlow backend's converter)."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if int8:
        if calibration is None:
            raise ValueError("int8 export needs calibration images")
        rng = np.random.default_rng(0)
        rows = rng.choice(len(calibration), min(CALIBRATION_IMAGES, len(calibration)), False)
        samples = calibration.images[rows].astype(np.float32)[..., None]
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([s[None]] for s in samples)
    return converter.convert()


def export(
    keras_path: str | Path,
    out_dir: str | Path,
    flip_average: bool = True,
    int8: bool = False,
    calibration: Dataset | None = None,
    extra: dict | None = None,
) -> Path:
    """Write emotion.tflite and model.json into `out_dir`; returns the .tflite path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model = inference_model(keras.models.load_model(keras_path), flip_average)
    path = out / MODEL_FILE
    path.write_bytes(to_tflite(model, int8, calibration))
    contract = {
        "name": "moodnet",
        "labels": list(LABELS),
        "input_shape": [CROP_SIZE, CROP_SIZE, 1],
        "input": "grayscale face crop, float32 pixel values 0..255, no normalisation",
        "output": "probabilities in label order (softmax)",
        "crop": {
            "margin": CROP_MARGIN,
            "rule": "square of side max(w, h) * (1 + margin) centred on the Haar box, edges "
            "replicated; INTER_AREA when shrinking, INTER_LINEAR when enlarging "
            "(host/faces.py crop_face)",
        },
        "flip_average": flip_average,
        "quantization": "int8" if int8 else "float32",
        "size_bytes": path.stat().st_size,
        **(extra or {}),
    }
    (out / CONTRACT_FILE).write_text(json.dumps(contract, indent=2) + "\n")
    return path
