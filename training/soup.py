"""A soup: one network whose weights are the plain average of several networks' weights.

Networks fine-tuned from one start tend to stay in one basin of the loss, where the average of
their weights reads faces better than each of them does, at the cost of one network (Wortsman et
al., "Model soups", 2022). It only makes sense for networks of one shape from one start; networks
trained from different random starts average to noise.

Each batch norm's moving statistics describe the outputs of the conv before it in one network;
the averaged conv gives other outputs, so the soup's statistics are measured again, one batch
norm after another, each seeing the ones before it already set. They are measured on augmented
training views, not clean faces: a network's layers learnt to follow batch norms that normalised
augmented batches, and clean faces' statistics move them off that (the model card has the
measurement).
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from training.architectures import load_network
from training.augment import AugmentConfig, augment_batch
from training.data import Dataset

STATISTICS_VIEWS = 4096  # augmented views for the batch norms' statistics: 2 of every 27 faces


class SoupError(ValueError):
    """The networks cannot be averaged; the message says which one and why."""


def average_weights(networks: list[keras.Model]) -> keras.Model:
    """A new network of the first one's shape holding the mean of all their weights."""
    if len(networks) < 2:
        raise SoupError(f"a soup needs at least two networks, got {len(networks)}")
    shape = [w.shape for w in networks[0].get_weights()]
    for index, network in enumerate(networks[1:], start=2):
        other = [w.shape for w in network.get_weights()]
        if other != shape:
            raise SoupError(
                f"network {index} is not the shape of network 1 ({len(other)} weight arrays "
                f"against {len(shape)}, or arrays of other sizes); a soup averages networks "
                "of one architecture"
            )
    soup = keras.Model.from_config(networks[0].get_config())
    means = [
        np.mean([network.get_weights()[i] for network in networks], axis=0)
        for i in range(len(shape))
    ]
    soup.set_weights(means)
    return soup


def measure_norm_statistics(model: keras.Model, faces: np.ndarray) -> None:
    """Set each batch norm's moving mean and variance to those of its input on `faces`
    (float32 (N, 48, 48, 1) in 0..255), in the order the model runs them.
    """
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    for norm in norms:
        probe = keras.Model(model.input, norm.input)
        inputs = probe.predict(faces, batch_size=256, verbose=0)
        gamma, beta, _, _ = norm.get_weights()
        axes = tuple(range(inputs.ndim - 1))
        norm.set_weights([gamma, beta, inputs.mean(axis=axes), inputs.var(axis=axes)])


def statistics_views(
    train: Dataset, augment: AugmentConfig, count: int = STATISTICS_VIEWS
) -> np.ndarray:
    """A fixed draw of `count` faces of `train`, each augmented as in training: float32
    (N, 48, 48, 1) in 0..255."""
    rows = np.random.default_rng(0).permutation(len(train))[:count]
    return augment_batch(train.images[rows], np.random.default_rng(0), augment)[..., None]


def make_soup(paths: list[str | Path], faces: np.ndarray, out: str | Path) -> Path:
    """Average the networks saved at `paths`, measure its batch norms on `faces`, save to `out`."""
    networks = []
    for path in paths:
        try:
            networks.append(load_network(path))
        except (OSError, ValueError) as exc:
            raise SoupError(f"network {path} is unreadable: {exc}") from None
    soup = average_weights(networks)
    measure_norm_statistics(soup, faces)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    soup.save(out)
    return out
