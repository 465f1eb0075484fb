"""Measure the shipped artifact through the host's own code: its crop, its LiteRT runner.

    python -m training evaluate --data DIR [--detect-faces] [--model-dir model] --json

DIR holds `<label>/<image>` files (any subset of the seven labels, any format OpenCV reads).
Images are face crops of any size, or with --detect-faces full photos in which the host's Haar
face finder picks the face first; photos where it finds none count as misses.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from host.vision.emotion import MODEL_DIR, EmotionModel
from host.vision.faces import Box, FaceFinder, crop_face
from training.data import LABELS, image_files, read_gray


@dataclass
class Evaluation:
    confusion: np.ndarray  # (7, 7) counts; rows: true label, columns: predicted
    missed: np.ndarray  # (7,) images per true label in which no face was found
    seconds: float

    @property
    def n(self) -> int:
        return int(self.confusion.sum() + self.missed.sum())

    def report(self) -> dict:
        """n, accuracy, macro_f1, per-class recall and precision, confusion, faces_missed."""
        hits = np.diag(self.confusion).astype(np.float64)
        per_class = self.confusion.sum(1) + self.missed  # a missed face is a wrong answer
        predicted = self.confusion.sum(0)
        recall = _ratio(hits, per_class)
        precision = _ratio(hits, predicted)
        f1 = _ratio(2 * precision * recall, precision + recall)
        present = per_class > 0
        return {
            "n": self.n,
            "accuracy": round(float(hits.sum() / max(self.n, 1)), 4),
            "macro_f1": round(float(f1[present].mean()), 4) if present.any() else 0.0,
            "recall": _by_label(recall, present),
            "precision": _by_label(precision, predicted > 0),
            "confusion_matrix": {
                "labels": list(LABELS),
                "rows_true_cols_predicted": self.confusion.tolist(),
            },
            "faces_missed": int(self.missed.sum()),
            "ms_per_image": round(1e3 * self.seconds / max(self.n, 1), 3),
        }


def _ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    return np.divide(top, bottom, out=np.zeros(len(top)), where=bottom > 0)


def _by_label(values: np.ndarray, keep: np.ndarray) -> dict[str, float]:
    return {
        label: round(float(v), 4) for label, v, k in zip(LABELS, values, keep, strict=True) if k
    }


def evaluate(
    data_dir: str | Path, model_dir: str | Path = MODEL_DIR, detect_faces: bool = False
) -> Evaluation:
    """Run the model on every image under `data_dir` the way the host would."""
    model = EmotionModel.load(model_dir)
    finder = FaceFinder() if detect_faces else None
    confusion = np.zeros((len(LABELS), len(LABELS)), np.int64)
    missed = np.zeros(len(LABELS), np.int64)
    started = time.perf_counter()
    for path, label in image_files(Path(data_dir)):
        crop = face_crop(read_gray(path), finder, model.contract.crop_margin)
        if crop is None:
            missed[label] += 1
            continue
        confusion[label, int(np.argmax(model.predict(crop)))] += 1
    return Evaluation(confusion, missed, time.perf_counter() - started)


def face_crop(gray: np.ndarray, finder: FaceFinder | None, margin: float) -> np.ndarray | None:
    """The model input for an image: the whole image if it is a face crop, else the found face."""
    if finder is None:
        return crop_face(gray, Box(0, 0, gray.shape[1], gray.shape[0]), margin=0.0)
    faces = finder.detect(gray)
    if not faces:
        return None
    return crop_face(gray, max(faces, key=lambda b: b.area), margin=margin)


def plot_confusion(report: dict, png_path: str | Path, title: str) -> None:
    """The confusion matrix, row-normalised (recall on the diagonal), as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = np.array(report["confusion_matrix"]["rows_true_cols_predicted"], np.float64)
    rates = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(LABELS)), LABELS, rotation=45, ha="right")
    ax.set_yticks(range(len(LABELS)), LABELS)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(len(LABELS)):
        for j in range(len(LABELS)):
            color = "white" if rates[i, j] > 0.5 else "black"
            ax.text(j, i, f"{rates[i, j]:.2f}", ha="center", va="center", color=color, fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(png_path, dpi=100)
    plt.close(fig)
