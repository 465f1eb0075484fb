"""Knowledge distillation: a student learns from a teacher's softened probabilities and the labels.

A teacher is a folder holding either an exported model (`emotion.tflite`, run through LiteRT as
the host runs it, so any shipped ensemble can teach whether or not its Keras networks are still at
hand) or trained networks (`*.keras`, averaged, each reading the view and its mirror image).

Its readings are computed once per augmented epoch, on exactly the views the student is about to
train on, and cached in the run folder (`teacher/epoch_NNN.npy`). Why per epoch and not once per
face: the soft targets carry most of their information where the teacher hesitates, and that
changes with each crop, tilt and shadow, so a reading of the clean face would teach the student
the wrong answer for the view it sees. Why cached: a teacher costs at least the student's own
forward pass, the epochs are reproducible from (seed, epoch), and a resumed sitting re-makes the
epochs its predecessor lost, so the cache saves it the teacher's share; the files are about 0.8 MB
an epoch.

Where they are computed: an exported teacher reads on the augmenting worker, on the CPU, while
the student trains on earlier epochs; trained networks read in the training process, so on its
GPU when it has one (there, three networks and their mirror images read an epoch in well under
the time the worker takes to augment it; on the CPU they would double the run).
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import keras
import numpy as np

from training.architectures import load_network
from training.data import LABELS

TEACHER_BATCH = 256  # faces per LiteRT call: large enough that per-call overhead vanishes
NETWORK_BATCH = 1024  # faces per pass of a trained teacher network


class TeacherError(ValueError):
    """The teacher folder cannot teach; the message says what is wrong with it."""


class CachedTeacher(ABC):
    """A teacher's probabilities for augmented epochs, computed on demand and cached on disk."""

    reads_on_worker = False  # whether the augmenting worker may compute the readings

    def __init__(self, cache_dir: str | Path | None) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None

    def readings(self, epoch: int, images: np.ndarray) -> np.ndarray:
        """(N, 7) probabilities for `images`, epoch `epoch`'s views, from the cache if there."""
        cached = self.cache_dir / f"epoch_{epoch:03d}.npy" if self.cache_dir else None
        if cached is not None and cached.exists():
            probabilities = np.load(cached)
            if len(probabilities) == len(images):
                return probabilities
        probabilities = self.probabilities(images)
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            partial = cached.with_name(f"{cached.stem}.{os.getpid()}.partial.npy")
            np.save(partial, probabilities)
            partial.replace(cached)  # a killed worker leaves no half-written epoch behind
        return probabilities

    @abstractmethod
    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """(N, 7) float32 probabilities for float32 faces (N, 48, 48, 1) in 0..255."""


def load_teacher(folder: str | Path, cache_dir: str | Path | None) -> CachedTeacher:
    """The teacher in `folder`: an exported model, or trained networks."""
    folder = Path(folder)
    if (folder / "emotion.tflite").is_file():
        return ExportedTeacher(folder, cache_dir)
    if folder.is_dir() and any(folder.glob("*.keras")):
        return NetworkTeachers(folder, cache_dir)
    raise TeacherError(
        f"teacher model not found: {folder} holds neither emotion.tflite (an exported model) "
        "nor *.keras (trained networks)"
    )


class ExportedTeacher(CachedTeacher):
    """An exported model read through LiteRT. Picklable (the interpreter is made on first use),
    so it travels to augmenting workers.
    """

    reads_on_worker = True

    def __init__(self, model_dir: str | Path, cache_dir: str | Path | None) -> None:
        super().__init__(cache_dir)
        self.model_path = Path(model_dir) / "emotion.tflite"
        contract_path = Path(model_dir) / "model.json"
        if not self.model_path.is_file():
            raise TeacherError(f"teacher model not found: {self.model_path}")
        try:
            labels = json.loads(contract_path.read_text())["labels"]
        except (OSError, ValueError, KeyError) as exc:
            raise TeacherError(f"teacher contract {contract_path} is unreadable: {exc}") from None
        if tuple(labels) != LABELS:
            raise TeacherError(f"teacher {contract_path} lists labels {labels}, expected {LABELS}")
        self._interpreter: Any = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_interpreter": None}

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        interpreter = self._load()
        (source,) = interpreter.get_input_details()
        (target,) = interpreter.get_output_details()
        out = np.empty((len(images), len(LABELS)), np.float32)
        for start in range(0, len(images), TEACHER_BATCH):
            batch = np.ascontiguousarray(images[start : start + TEACHER_BATCH], np.float32)
            if interpreter.get_input_details()[0]["shape"][0] != len(batch):
                interpreter.resize_tensor_input(source["index"], batch.shape)
                interpreter.allocate_tensors()
            interpreter.set_tensor(source["index"], batch)
            interpreter.invoke()
            out[start : start + len(batch)] = interpreter.get_tensor(target["index"])
        # An int8 model's output moves in steps of 1/256, so rows drift from summing to 1.
        return out / np.maximum(out.sum(axis=1, keepdims=True), 1e-6)

    def _load(self) -> Any:
        if self._interpreter is None:
            from ai_edge_litert.interpreter import Interpreter

            self._interpreter = Interpreter(model_path=str(self.model_path), num_threads=1)
            self._interpreter.allocate_tensors()
        return self._interpreter


class NetworkTeachers(CachedTeacher):
    """Trained networks (`*.keras` in one folder): the mean of their probabilities for each view
    and its mirror image, as an ensemble read with test-time mirroring would give.
    """

    def __init__(self, folder: str | Path, cache_dir: str | Path | None) -> None:
        super().__init__(cache_dir)
        self.paths = sorted(Path(folder).glob("*.keras"))
        if not self.paths:
            raise TeacherError(f"no trained networks (*.keras) in {folder}")
        self.networks = []
        for path in self.paths:
            try:
                network = load_network(path)
            except (OSError, ValueError) as exc:
                raise TeacherError(f"teacher network {path} is unreadable: {exc}") from None
            if network.output_shape[-1] != len(LABELS):
                raise TeacherError(
                    f"teacher network {path} gives {network.output_shape[-1]} outputs, "
                    f"expected {len(LABELS)} ({', '.join(LABELS)})"
                )
            self.networks.append(network)

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        views = (images, images[:, :, ::-1])
        total = np.zeros((len(images), len(LABELS)), np.float64)
        for network in self.networks:
            for view in views:
                logits = network.predict(view, batch_size=NETWORK_BATCH, verbose=0)
                total += keras.ops.convert_to_numpy(keras.ops.softmax(logits, axis=-1))
        return (total / (len(self.networks) * len(views))).astype(np.float32)


@keras.saving.register_keras_serializable(package="moodtune")
class DistillationLoss(keras.losses.Loss):
    """(1 - weight) x cross-entropy with the labels + weight x T² x KL(teacher_T ‖ student_T).

    The target rows hold the one-hot label then the teacher's probabilities (`TrainingEpochs`
    lays them side by side), so the teacher's reading travels with its view through `fit`.
    """

    def __init__(
        self,
        temperature: float,
        weight: float,
        label_smoothing: float = 0.0,
        num_classes: int = len(LABELS),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.temperature, self.weight = temperature, weight
        self.label_smoothing, self.num_classes = label_smoothing, num_classes

    def call(self, y_true: Any, y_pred: Any) -> Any:
        ops = keras.ops
        labels, teacher = y_true[:, : self.num_classes], y_true[:, self.num_classes :]
        hard = keras.losses.categorical_crossentropy(
            labels, y_pred, from_logits=True, label_smoothing=self.label_smoothing
        )
        soft_teacher = ops.softmax(ops.log(teacher + 1e-7) / self.temperature, axis=-1)
        student_log = ops.log_softmax(y_pred / self.temperature, axis=-1)
        kl = ops.sum(soft_teacher * (ops.log(soft_teacher + 1e-7) - student_log), axis=-1)
        return (1 - self.weight) * hard + self.weight * self.temperature**2 * kl

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "temperature": self.temperature,
            "weight": self.weight,
            "label_smoothing": self.label_smoothing,
            "num_classes": self.num_classes,
        }


@keras.saving.register_keras_serializable(package="moodtune")
def label_accuracy(y_true: Any, y_pred: Any) -> Any:
    """Accuracy against the label part of a distillation target row."""
    return keras.metrics.categorical_accuracy(y_true[:, : len(LABELS)], y_pred)
