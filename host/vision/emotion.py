"""Run the shipped emotion model (`model/emotion.tflite` + `model/model.json`) with LiteRT.

The host never imports TensorFlow: LiteRT's interpreter loads in a few hundred milliseconds and
a few tens of MB, where TensorFlow takes seconds and hundreds of MB.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from host.paths import PACKAGE_DIR
from host.vocabulary import EMOTIONS

MODEL_FILE = "emotion.tflite"
# What LiteRT's C++ prints to the process's stderr when an interpreter first allocates.
LITERT_BANNER = b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
CONTRACT_FILE = "model.json"


def shipped_model_dir() -> Path:
    """The shipped model's folder.

    Installed from a wheel, the model sits inside the package (`host/model`); in a checkout or an
    editable install (`pip install -e .`) it is `model/` at the top of the repository.
    """
    installed = PACKAGE_DIR / "model"
    return installed if (installed / MODEL_FILE).exists() else PACKAGE_DIR.parent / "model"


MODEL_DIR = shipped_model_dir()


class ModelError(RuntimeError):
    """The model files are missing or do not match the contract; the message names the file."""


@dataclass(frozen=True)
class ModelContract:
    """What model.json promises about emotion.tflite."""

    labels: tuple[str, ...]
    input_shape: tuple[int, ...]
    crop_margin: float
    name: str
    accuracy: float | None

    @classmethod
    def read(cls, path: Path) -> ModelContract:
        """The contract in `path`; raises ModelError if it is missing or malformed."""
        try:
            data = json.loads(path.read_text())
            return cls(
                labels=tuple(data["labels"]),
                input_shape=tuple(data["input_shape"]),
                crop_margin=float(data["crop"]["margin"]),
                name=str(data.get("name", "moodnet")),
                accuracy=data.get("metrics", {}).get("val", {}).get("accuracy"),
            )
        except FileNotFoundError:
            raise ModelError(f"model contract not found: {path}") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"model contract {path} is malformed: {exc!r}") from None


class EmotionModel:
    """One face crop in, the 7 emotion probabilities out (in EMOTIONS order)."""

    def __init__(self, interpreter, contract: ModelContract) -> None:
        self.contract = contract
        self._interpreter = interpreter
        self._input = interpreter.get_input_details()[0]["index"]
        self._output = interpreter.get_output_details()[0]["index"]

    @classmethod
    def load(cls, model_dir: str | Path = MODEL_DIR, threads: int = 1) -> EmotionModel:
        """The model in `model_dir`; raises ModelError naming the file that is wrong."""
        model_dir = Path(model_dir)
        contract = ModelContract.read(model_dir / CONTRACT_FILE)
        if contract.labels != EMOTIONS:
            raise ModelError(
                f"{model_dir / CONTRACT_FILE} lists labels {contract.labels}, expected {EMOTIONS}"
            )
        path = model_dir / MODEL_FILE
        if not path.is_file():
            raise ModelError(f"model file not found: {path}")
        from ai_edge_litert.interpreter import Interpreter

        try:
            with _without_litert_banner():
                interpreter = Interpreter(model_path=str(path), num_threads=threads)
                interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"cannot load {path}: {exc}") from None
        shapes = (
            tuple(interpreter.get_input_details()[0]["shape"]),
            tuple(interpreter.get_output_details()[0]["shape"]),
        )
        expected = ((1, *contract.input_shape), (1, len(EMOTIONS)))
        if shapes != expected:
            raise ModelError(f"{path} has input/output shapes {shapes}, model.json says {expected}")
        return cls(interpreter, contract)

    def predict(self, crop: np.ndarray) -> np.ndarray:
        """Probabilities (7,) for one grayscale uint8 crop of the contract's size."""
        batch = crop.astype(np.float32).reshape(1, *self.contract.input_shape)
        self._interpreter.set_tensor(self._input, batch)
        self._interpreter.invoke()
        probabilities = self._interpreter.get_tensor(self._output)[0]
        # An int8 model's output is quantised in steps of 1/256: the sum drifts by up to ~1%.
        return probabilities / max(float(probabilities.sum()), 1e-6)


def labelled(probabilities: Sequence[float] | np.ndarray, digits: int = 4) -> dict[str, float]:
    """Probabilities in EMOTIONS order as {emotion: p}, rounded for the wire."""
    return {e: round(float(p), digits) for e, p in zip(EMOTIONS, probabilities, strict=True)}


@contextlib.contextmanager
def _without_litert_banner() -> Iterator[None]:
    """Hold back LITERT_BANNER, which would land in every command's output (after `doctor`'s
    report, in the middle of the demo's lines).

    LiteRT's C++ writes it straight to file descriptor 2 and its Python API sets no log level,
    so descriptor 2 goes to a temporary file for the block; whatever else was written there
    meanwhile (a real warning, another thread's line) is passed on afterwards.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            lines = held.read().splitlines(keepends=True)
            rest = b"".join(line for line in lines if not line.startswith(LITERT_BANNER))
            if rest:
                os.write(2, rest)
