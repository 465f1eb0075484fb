"""The emotion CNN: a small residual network shaped for accuracy per FLOP on 48x48 faces.

Most of a CNN's cost sits at the highest resolution, so the stem keeps one cheap 1-channel conv
at 48x48 and halves the resolution straight away; width doubles as resolution halves, with one
residual block per stage. Normalisation lives inside the model: it takes raw 0..255 grayscale.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
from keras import layers, ops

from training.data import Dataset


@keras.saving.register_keras_serializable(package="moodtune")
class Standardize(layers.Layer):
    """Per-image standardisation: zero mean, unit variance, so exposure and contrast drop out."""

    def call(self, images):
        mean = ops.mean(images, axis=(1, 2, 3), keepdims=True)
        variance = ops.mean(ops.square(images - mean), axis=(1, 2, 3), keepdims=True)
        return (images - mean) * ops.rsqrt(variance + 1.0)


def conv_bn_relu(x, filters: int, strides: int = 1):
    """3x3 conv → batch norm → ReLU."""
    x = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


def residual_block(x, filters: int):
    """Two 3x3 convs with an identity shortcut (ResNet v1 basic block)."""
    shortcut = x
    x = conv_bn_relu(x, filters)
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(gamma_initializer="zeros")(x)
    return layers.ReLU()(layers.Add()([shortcut, x]))


def build_moodnet(
    input_size: int = 48,
    num_classes: int = 7,
    stem_width: int = 32,
    widths: tuple[int, ...] = (32, 64, 128, 256),
    blocks: tuple[int, ...] = (1, 1, 1, 0),
    dropout: float = 0.3,
) -> keras.Model:
    """The model: raw (input_size, input_size, 1) grayscale in 0..255 → class logits."""
    inputs = keras.Input((input_size, input_size, 1), name="face")
    x = Standardize()(inputs)
    x = conv_bn_relu(x, stem_width)
    for width, count in zip(widths, blocks, strict=True):
        x = conv_bn_relu(x, width, strides=2)
        for _ in range(count):
            x = residual_block(x, width)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name="moodnet")


def load_network(path: str | Path) -> keras.Model:
    """A saved network, uncompiled, for reading faces or training on; loading it through this
    module is what registers the layers it is made of (`Standardize`)."""
    return keras.models.load_model(path, compile=False)


def network_accuracy(path: str | Path, faces: Dataset) -> float:
    """A saved network's accuracy on `faces`, one pass, in float."""
    logits = load_network(path).predict(
        faces.images.astype(np.float32)[..., None], batch_size=512, verbose=0
    )
    return float(np.mean(np.argmax(logits, axis=1) == faces.labels))


def forward_flops(model: keras.Model) -> int:
    """Multiply-adds x2 of the model's conv and dense layers for one image."""
    flops = 0
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            height, width, _ = layer.output.shape[1:]
            flops += 2 * height * width * int(ops.size(layer.kernel))
        elif isinstance(layer, layers.Dense):
            flops += 2 * int(ops.size(layer.kernel))
    return flops
