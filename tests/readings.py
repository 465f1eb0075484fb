"""What a Keras network reads on faces, as the tests compare it: softmax probabilities."""

from __future__ import annotations

import keras
import numpy as np


def probabilities(model: keras.Model, faces: np.ndarray, training: bool = False) -> np.ndarray:
    """(N, 7) probabilities for float32 faces (N, 48, 48, 1); `training` normalises each batch
    norm with the batch's own statistics, as a training step does."""
    logits = model(faces, training=training)
    return keras.ops.convert_to_numpy(keras.ops.softmax(logits, axis=-1))
