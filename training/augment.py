"""Augmentation for 48x48 grayscale faces, fed to Keras as a `PyDataset`.

Each batch is augmented with OpenCV and vectorised numpy (both release the GIL), so a single
loader thread keeps the model fed on a 2-core machine. Linear brightness/contrast changes are
left out on purpose: the model standardises every image itself, which cancels them; a gamma
curve is the photometric change that survives standardisation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import keras
import numpy as np


@dataclass(frozen=True)
class AugmentConfig:
    max_rotation_deg: float = 15.0
    scale_range: tuple[float, float] = (0.85, 1.15)
    max_shift: float = 0.10  # fraction of the image side
    flip_probability: float = 0.5
    gamma_range: tuple[float, float] = (0.6, 1.6)
    erase_probability: float = 0.5
    erase_area: tuple[float, float] = (0.02, 0.15)
    erase_aspect: tuple[float, float] = (0.3, 3.3)


def random_affine(image: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """The image rotated, scaled, shifted and maybe mirrored; same size, reflected borders."""
    size = image.shape[0]
    angle = rng.uniform(-cfg.max_rotation_deg, cfg.max_rotation_deg)
    scale = rng.uniform(*cfg.scale_range)
    matrix = cv2.getRotationMatrix2D((size / 2 - 0.5, size / 2 - 0.5), angle, scale)
    matrix[:, 2] += rng.uniform(-cfg.max_shift, cfg.max_shift, 2) * size
    if rng.random() < cfg.flip_probability:
        matrix[0] = -matrix[0]
        matrix[0, 2] += size - 1
    return cv2.warpAffine(
        image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
    )


def random_gamma(images: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """A batch (N, H, W) float32 in 0..255 with a random gamma curve per image."""
    gamma = np.exp(rng.uniform(*np.log(cfg.gamma_range), (len(images), 1, 1)))
    return (255.0 * (images / 255.0) ** gamma).astype(np.float32)


def random_erase(images: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> None:
    """Blank one random rectangle with noise in some images, in place (occlusion robustness)."""
    n, height, width = images.shape
    for i in np.flatnonzero(rng.random(n) < cfg.erase_probability):
        area = rng.uniform(*cfg.erase_area) * height * width
        aspect = math.exp(rng.uniform(*np.log(cfg.erase_aspect)))
        h = min(height, max(1, round(math.sqrt(area * aspect))))
        w = min(width, max(1, round(math.sqrt(area / aspect))))
        y, x = rng.integers(0, height - h + 1), rng.integers(0, width - w + 1)
        images[i, y : y + h, x : x + w] = rng.uniform(0, 255, (h, w))


def augment_batch(images: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """A float32 batch (N, H, W) of augmented copies of uint8 `images`."""
    warped = np.stack([random_affine(image, rng, cfg) for image in images])
    out = random_gamma(warped.astype(np.float32), rng, cfg)
    random_erase(out, rng, cfg)
    return out


class FaceBatches(keras.utils.PyDataset):
    """Batches of (image, one-hot label, sample weight); shuffled and augmented when training.

    Randomness is derived from (seed, epoch, batch index), so a resumed run sees the same
    batches as an uninterrupted one, whichever loader thread makes them.
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        batch_size: int,
        num_classes: int,
        class_weights: np.ndarray | None = None,
        augment: AugmentConfig | None = None,
        seed: int = 0,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.images, self.labels = images, labels
        self.batch_size, self.num_classes = batch_size, num_classes
        self.class_weights = class_weights
        self.augment, self.seed = augment, seed
        self.epoch = 0
        self.order = self._order()

    def _order(self) -> np.ndarray:
        if self.augment is None:
            return np.arange(len(self.labels))
        return np.random.default_rng([self.seed, self.epoch]).permutation(len(self.labels))

    def __len__(self) -> int:
        return math.ceil(len(self.labels) / self.batch_size)

    def __getitem__(self, index: int):
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        images, labels = self.images[rows], self.labels[rows]
        if self.augment is not None:
            rng = np.random.default_rng([self.seed, self.epoch, index])
            batch = augment_batch(images, rng, self.augment)
        else:
            batch = images.astype(np.float32)
        onehot = np.eye(self.num_classes, dtype=np.float32)[labels]
        if self.class_weights is None:
            return batch[..., None], onehot
        return batch[..., None], onehot, self.class_weights[labels].astype(np.float32)

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self.order = self._order()


def balanced_weights(counts: np.ndarray, power: float) -> np.ndarray:
    """Per-class loss weights ∝ count^-power, scaled so the average image weighs 1."""
    weights = np.maximum(counts, 1).astype(np.float64) ** -power
    return weights * counts.sum() / (weights * counts).sum()
