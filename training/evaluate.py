"""Measure the shipped artifact through the host's own code: its crop, its LiteRT runner.

    python -m training evaluate --data DIR [--detect-faces] [--model-dir DIR] [--per-person] --json

DIR holds `<label>/<image>` files (any subset of the seven labels, any format OpenCV reads).
Images are face crops of any size, or with --detect-faces full photos in which the host's Haar
face finder picks the face first; photos where it finds none count as misses.

With --per-person the person is the part of each file name before the first `__`, and the
images are also scored through the host's calibration (host/vision/calibration.py): each
person's `neutral/` images make their calibration, a neutral image itself being scored with a
calibration from the same person's *other* neutral images; a person with none stays
uncalibrated.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from host.vision.calibration import Calibration
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
    readings, seconds = read_all(data_dir, model_dir, detect_faces)
    return tally(readings, _plain(readings), seconds)


@dataclass
class Reading:
    """One image's label, person and probabilities (None: no face found in it)."""

    label: int
    person: str
    probabilities: np.ndarray | None


def person_of(path: Path) -> str:
    """`Al_Gore__Al_Gore_0003.jpg` → `Al_Gore`; a name without `__` is a person of its own."""
    return path.stem.split("__", 1)[0] if "__" in path.stem else path.stem


def read_all(
    data_dir: str | Path, model_dir: str | Path = MODEL_DIR, detect_faces: bool = False
) -> tuple[list[Reading], float]:
    """The model's reading of every image under `data_dir`, and the seconds it took."""
    model = EmotionModel.load(model_dir)
    finder = FaceFinder() if detect_faces else None
    readings = []
    started = time.perf_counter()
    for path, label in image_files(Path(data_dir)):
        crop = face_crop(read_gray(path), finder, model.contract.crop_margin)
        probabilities = None if crop is None else model.predict(crop)
        readings.append(Reading(label, person_of(path), probabilities))
    return readings, time.perf_counter() - started


def tally(readings: list[Reading], predicted: list[int | None], seconds: float) -> Evaluation:
    confusion = np.zeros((len(LABELS), len(LABELS)), np.int64)
    missed = np.zeros(len(LABELS), np.int64)
    for reading, guess in zip(readings, predicted, strict=True):
        if guess is None:
            missed[reading.label] += 1
        else:
            confusion[reading.label, guess] += 1
    return Evaluation(confusion, missed, seconds)


def calibrated_predictions(readings: list[Reading]) -> tuple[list[int | None], set[str]]:
    """Each image's prediction after its person's calibration, and the people calibrated."""
    neutral = LABELS.index("neutral")
    resting: dict[str, list[int]] = {}
    for index, reading in enumerate(readings):
        if reading.label == neutral and reading.probabilities is not None:
            resting.setdefault(reading.person, []).append(index)
    predicted: list[int | None] = []
    calibrated = set()
    for index, reading in enumerate(readings):
        if reading.probabilities is None:
            predicted.append(None)
            continue
        others = [i for i in resting.get(reading.person, []) if i != index]
        probabilities = reading.probabilities
        if others:
            rest = np.array([readings[i].probabilities for i in others])
            probabilities = Calibration.from_resting(rest, made_at=0.0).apply(probabilities)
            calibrated.add(reading.person)
        predicted.append(int(np.argmax(probabilities)))
    return predicted, calibrated


def evaluate_per_person(
    data_dir: str | Path, model_dir: str | Path = MODEL_DIR, detect_faces: bool = False
) -> dict:
    """The usual report uncalibrated, the same under `calibrated`, and the people counted."""
    readings, seconds = read_all(data_dir, model_dir, detect_faces)
    plain = _plain(readings)
    calibrated, people_calibrated = calibrated_predictions(readings)
    report = tally(readings, plain, seconds).report()
    report["calibrated"] = tally(readings, calibrated, seconds).report()
    report["people"] = len({r.person for r in readings})
    report["people_calibrated"] = len(people_calibrated)
    report["per_person"] = _per_person(readings, plain, calibrated)
    return report


def _plain(readings: list[Reading]) -> list[int | None]:
    return [None if r.probabilities is None else int(np.argmax(r.probabilities)) for r in readings]


def _per_person(
    readings: list[Reading], plain: list[int | None], calibrated: list[int | None]
) -> dict[str, dict]:
    """For each person: images, accuracy before and after, and how their neutral faces read."""
    neutral = LABELS.index("neutral")
    rows: dict[str, dict] = {}
    for reading, before, after in zip(readings, plain, calibrated, strict=True):
        row = rows.setdefault(
            reading.person,
            {"n": 0, "hits": 0, "hits_calibrated": 0, "neutral": 0, "neutral_read_neutral": 0},
        )
        row["n"] += 1
        row["hits"] += before == reading.label
        row["hits_calibrated"] += after == reading.label
        if reading.label == neutral:
            row["neutral"] += 1
            row["neutral_read_neutral"] += before == neutral
    return {
        person: {
            "n": row["n"],
            "accuracy": round(row["hits"] / row["n"], 4),
            "accuracy_calibrated": round(row["hits_calibrated"] / row["n"], 4),
            "neutral_read_as_neutral": (
                round(row["neutral_read_neutral"] / row["neutral"], 4) if row["neutral"] else None
            ),
        }
        for person, row in sorted(rows.items())
    }


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
