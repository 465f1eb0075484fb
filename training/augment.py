"""Augmentation for 48x48 grayscale faces, made a whole epoch at a time.

A training epoch is built as plain arrays (about 3 s of OpenCV and vectorised numpy on one core)
by worker processes while earlier epochs train: one worker keeps a CPU run fed, a GPU run needs
several. Arrays, rather than a `keras.utils.PyDataset`, because with the TensorFlow backend a
PyDataset goes through a tf.data generator whose teardown stalled every epoch start by ~45 s on
this machine.

Linear brightness/contrast changes are left out on purpose: the model standardises every image
itself, which cancels them; a gamma curve is the photometric change that survives
standardisation. A brightness *gradient* across the face does survive it, and is how a lab face
lit from one side differs from a web photo.
"""

from __future__ import annotations

import math
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Protocol

import cv2
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
    # Off unless a recipe turns them on (training.recipe.STUDIO_AUGMENT does):
    # Width/height stretch: a box drawn by another face finder than the one that cut FER-2013.
    aspect_range: tuple[float, float] = (1.0, 1.0)
    illumination_probability: float = 0.0
    illumination_strength: float = 0.5  # the brightest side is up to (1 + s)/(1 - s) the darkest
    blur_probability: float = 0.0
    blur_sigma: tuple[float, float] = (0.4, 1.2)  # pixels, Gaussian
    jpeg_probability: float = 0.0
    jpeg_quality: tuple[int, int] = (30, 90)


def random_affine(image: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """The image rotated, scaled, shifted and maybe mirrored; same size, reflected borders."""
    size = image.shape[0]
    angle = rng.uniform(-cfg.max_rotation_deg, cfg.max_rotation_deg)
    scale = rng.uniform(*cfg.scale_range)
    matrix = cv2.getRotationMatrix2D((size / 2 - 0.5, size / 2 - 0.5), angle, scale)
    if cfg.aspect_range != (1.0, 1.0):
        stretch = math.exp(rng.uniform(*np.log(cfg.aspect_range)))
        centre = size / 2 - 0.5
        matrix[0] *= stretch
        matrix[0, 2] += centre * (1 - stretch)
    matrix[:, 2] += rng.uniform(-cfg.max_shift, cfg.max_shift, 2) * size
    if rng.random() < cfg.flip_probability:
        matrix[0] = -matrix[0]
        matrix[0, 2] += size - 1
    return cv2.warpAffine(
        image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
    )


def random_gamma(images: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """A batch (N, H, W) float32 in 0..255 with a random gamma curve per image."""
    low, high = np.log(cfg.gamma_range)
    gamma = np.exp(rng.uniform(low, high, (len(images), 1, 1)))
    return (255.0 * (images / 255.0) ** gamma).astype(np.float32)


def random_jpeg(image: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """The uint8 image re-encoded as a JPEG of random quality, sometimes (the artefacts of
    FER-2013's web sources, and their absence in studio photos, should not carry meaning)."""
    # An option that is off draws no random numbers, so recipes without it replay as they ran.
    if not cfg.jpeg_probability or rng.random() >= cfg.jpeg_probability:
        return image
    quality = int(rng.integers(cfg.jpeg_quality[0], cfg.jpeg_quality[1] + 1))
    _, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    decoded = cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)
    return image if decoded is None else np.asarray(decoded)


def random_blur(image: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """The image softened by a Gaussian of random width, sometimes (out-of-focus webcams, faces
    enlarged from a few pixels)."""
    if not cfg.blur_probability or rng.random() >= cfg.blur_probability:
        return image
    return cv2.GaussianBlur(image, (0, 0), rng.uniform(*cfg.blur_sigma))


def random_illumination(images: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> None:
    """Multiply some images (N, H, W) float32 by a linear brightness ramp at a random angle,
    in place: light from one side, which per-image standardisation does not cancel."""
    n, height, width = images.shape
    if not cfg.illumination_probability:
        return
    chosen = np.flatnonzero(rng.random(n) < cfg.illumination_probability)
    angle = rng.uniform(0, 2 * np.pi, len(chosen))
    strength = rng.uniform(0, cfg.illumination_strength, len(chosen))
    ys, xs = np.mgrid[-1 : 1 : height * 1j, -1 : 1 : width * 1j]
    # Projected on the direction, the ramp runs over [-1, 1] along that direction's extent.
    reach = np.abs(np.cos(angle)) + np.abs(np.sin(angle))
    ramp = (np.cos(angle)[:, None, None] * xs + np.sin(angle)[:, None, None] * ys) / reach[
        :, None, None
    ]
    images[chosen] = np.clip(images[chosen] * (1 + strength[:, None, None] * ramp), 0, 255)


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
    warped = np.stack(
        [
            random_blur(random_jpeg(random_affine(image, rng, cfg), rng, cfg), rng, cfg)
            for image in images
        ]
    )
    out = random_gamma(warped.astype(np.float32), rng, cfg)
    random_illumination(out, rng, cfg)
    random_erase(out, rng, cfg)
    return out


def mixup(
    views: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray,
    rng: np.random.Generator,
    alpha: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each view blended with another of the batch, labels and weights blended alike."""
    share = rng.beta(alpha, alpha, len(views)).astype(np.float32)
    share = np.maximum(share, 1 - share)
    partner = rng.permutation(len(views))

    def blend(values: np.ndarray) -> np.ndarray:
        keep = share.reshape((-1,) + (1,) * (values.ndim - 1))
        return keep * values + (1 - keep) * values[partner]

    return blend(views), blend(labels), blend(weights)


class Teacher(Protocol):
    """What a distilling run asks of its teacher: probabilities for one augmented epoch."""

    def readings(self, epoch: int, images: np.ndarray) -> np.ndarray: ...


class TrainingEpochs:
    """Augmented, shuffled copies of a training set, one epoch at a time.

    An epoch is `steps_per_epoch` full batches: the few faces the shuffle leaves over sit that
    epoch out, so epochs can be laid end to end in one array. Randomness is derived from
    (seed, epoch, batch index), so a resumed run sees the same epochs as an uninterrupted one.
    With a `teacher`, each row's target is its one-hot label followed by the teacher's
    probabilities for that very view (training.distill.DistillationLoss splits them again).
    With `mixup_alpha` above 0, each view is blended with another of its batch (mixup, Zhang et
    al. 2018): its share ~ Beta(alpha, alpha), folded so that it keeps the larger share, and its
    label and loss weight are blended alike; the teacher, if any, reads the blend.
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        num_classes: int,
        class_weights: np.ndarray,
        augment: AugmentConfig,
        seed: int = 0,
        batch_size: int = 128,
        teacher: Teacher | None = None,
        mixup_alpha: float = 0.0,
    ) -> None:
        self.images, self.labels = images, labels
        self.num_classes, self.class_weights = num_classes, class_weights
        self.augment, self.seed, self.teacher = augment, seed, teacher
        self.mixup_alpha = mixup_alpha
        self.batch_size = min(batch_size, len(labels))
        self.steps_per_epoch = len(labels) // self.batch_size

    def arrays(self, epoch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Epoch `epoch`: images (N, H, W, 1) float32, targets, per-image loss weights."""
        order = np.random.default_rng([self.seed, epoch]).permutation(len(self.labels))
        order = order[: self.steps_per_epoch * self.batch_size]
        batches, targets, weights = [], [], []
        for index, start in enumerate(range(0, len(order), self.batch_size)):
            rows = order[start : start + self.batch_size]
            rng = np.random.default_rng([self.seed, epoch, index])
            views = augment_batch(self.images[rows], rng, self.augment)
            labels = one_hot(self.labels[rows], self.num_classes)
            weight = self.class_weights[self.labels[rows]].astype(np.float32)
            if self.mixup_alpha > 0:
                views, labels, weight = mixup(views, labels, weight, rng, self.mixup_alpha)
            batches.append(views)
            targets.append(labels)
            weights.append(weight)
        images = np.concatenate(batches)[..., None]
        target = np.concatenate(targets)
        if self.teacher is not None:
            target = np.concatenate([target, self.teacher.readings(epoch, images)], axis=1)
        return images, target, np.concatenate(weights)


class EpochLoader:
    """Worker processes that augment epochs ahead of training.

    Workers are spawned, not forked: the training process has a deep-learning runtime's threads
    running, which a fork would copy mid-flight. Each worker gets the training set once, at start.
    """

    def __init__(self, source: TrainingEpochs, workers: int) -> None:
        self.pool = ProcessPoolExecutor(
            workers, get_context("spawn"), initializer=_adopt, initargs=(source, os.getpid())
        )

    def span(self, first: int, stop: int) -> list[Future]:
        """Start augmenting epochs first..stop-1; `laid_end_to_end` of the futures is the span."""
        return [self.pool.submit(_augment_epoch, epoch) for epoch in range(first, stop)]

    def __enter__(self) -> EpochLoader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.pool.shutdown(cancel_futures=True)


_worker_source: TrainingEpochs | None = None


def _adopt(source: TrainingEpochs, parent: int) -> None:
    global _worker_source
    _worker_source = source
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """A killed training run cannot shut its pool down, so its workers watch for it and go too."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _augment_epoch(epoch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    assert _worker_source is not None, "the pool's initializer sets it"
    return _worker_source.arrays(epoch)


def laid_end_to_end(epochs: list[Future]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The epochs' images, labels and weights, each concatenated in epoch order."""
    parts = [future.result() for future in epochs]
    images, targets, weights = (np.concatenate(column) for column in zip(*parts, strict=True))
    return images, targets, weights


def one_hot(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """(N,) integer labels → (N, num_classes) float32 one-hot rows."""
    return np.eye(num_classes, dtype=np.float32)[labels]


def balanced_weights(counts: np.ndarray, power: float) -> np.ndarray:
    """Per-class loss weights ∝ count^-power, scaled so the average image weighs 1."""
    weights = np.maximum(counts, 1).astype(np.float64) ** -power
    return weights * counts.sum() / (weights * counts).sum()
