"""Knowledge distillation: a student learns from a teacher's softened probabilities and the labels.

The teacher is an exported model (`emotion.tflite`, run through LiteRT as the host runs it), so
any shipped ensemble can teach, whether or not its Keras networks are still at hand.

Its readings are computed once per augmented epoch, on the augmenting worker, on exactly the
views the student is about to train on, and cached in the run folder (`teacher/epoch_NNN.npy`).
Why per epoch and not once per face: the soft targets carry most of their information where
the teacher hesitates, and that changes with each crop, tilt and shadow, so a reading of the
clean face would teach the student the wrong answer for the view it sees. Why cached: the
ensemble costs about as much as the student's own forward pass, the epochs are reproducible from
(seed, epoch), and a resumed sitting re-makes the epochs its predecessor lost, so the cache
saves it the teacher's share; the files are about 0.8 MB an epoch.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import keras
import numpy as np

from training.data import LABELS

TEACHER_BATCH = 256  # faces per LiteRT call: large enough that per-call overhead vanishes


class TeacherError(ValueError):
    """The teacher folder cannot teach; the message says what is wrong with it."""


class TeacherReadings:
    """The teacher's probabilities for augmented epochs, computed on demand and cached on disk.

    Picklable (the interpreter is made on first use), so it travels to augmenting workers.
    """

    def __init__(self, model_dir: str | Path, cache_dir: str | Path | None) -> None:
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
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._interpreter: Any = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_interpreter": None}

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

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """(N, 7) float32 teacher probabilities for float32 faces (N, 48, 48, 1) in 0..255."""
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
