"""Load FER-2013 style datasets: an image-folder tree, the original `fer2013.csv`, or a packed
split (`pack`).

Every loader returns a `Dataset`: uint8 grayscale images (N, 48, 48) and integer labels in the
order of `LABELS`, which is the model's output order.

A packed split is the smallest lossless form found for sending faces to the GPU machine, whose
calls carry at most 64 MiB: the faces tiled into one PNG and their labels beside it. FER-2013's
faces barely compress (train + val as PNG files is 58.6 MB, as one tiled PNG 60.2 MB, as
lossless WebP 58.9 MB, as xz'd raw pixels 58.2 MB), but one file drops the per-file overhead
that a tarball of 28,709 small PNGs pays (74.6 MB for train alone).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from host.vocabulary import EMOTIONS

LABELS = EMOTIONS
IMAGE_SIZE = 48
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}
CSV_SPLITS = {"train": "Training", "val": "PublicTest", "test": "PrivateTest"}
PACKED_FACES, PACKED_LABELS = "faces.png", "labels.npy"
PACK_COLUMNS = 128  # faces per row of the tiled image


class DatasetError(ValueError):
    """A dataset on disk does not have the shape moodtune expects; the message says where."""


@dataclass
class Dataset:
    images: np.ndarray  # (N, 48, 48) uint8
    labels: np.ndarray  # (N,) int64, index into LABELS
    paths: list[str]

    def __len__(self) -> int:
        return len(self.labels)

    def class_counts(self) -> np.ndarray:
        """How many images each label has, in LABELS order."""
        return np.bincount(self.labels, minlength=len(LABELS))

    def subset(self, rows: np.ndarray) -> Dataset:
        """The images at `rows`, in that order."""
        return Dataset(self.images[rows], self.labels[rows], [self.paths[i] for i in rows])


def split_holdout(dataset: Dataset, fraction: float, seed: int) -> tuple[Dataset, Dataset]:
    """(the rest, a held-out slice): `fraction` of each class, chosen at random from `seed`.

    Each class with two or more images gives at least one, so a small sample has a slice too.
    """
    rng = np.random.default_rng([seed, 0x401D])
    held = []
    for label in range(len(LABELS)):
        rows = np.flatnonzero(dataset.labels == label)
        count = max(1, round(fraction * len(rows))) if len(rows) > 1 else 0
        held.append(rng.permutation(rows)[:count])
    held_rows = np.sort(np.concatenate(held))
    kept_rows = np.setdiff1d(np.arange(len(dataset)), held_rows)
    return dataset.subset(kept_rows), dataset.subset(held_rows)


def image_files(root: Path) -> list[tuple[Path, int]]:
    """Every image under `root/<label>/` with its label index; DatasetError on a bad tree."""
    if not root.is_dir():
        raise DatasetError(f"dataset folder not found: {root}")
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    if not folders:
        raise DatasetError(f"{root} has no class folders; expected some of {', '.join(LABELS)}")
    unknown = [f.name for f in folders if f.name.lower() not in LABELS]
    if unknown:
        raise DatasetError(
            f"unknown class folder(s) in {root}: {', '.join(unknown)}; "
            f"folder names must be among {', '.join(LABELS)}"
        )
    files = []
    for folder in folders:
        label = LABELS.index(folder.name.lower())
        files += [
            (p, label) for p in sorted(folder.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES
        ]
    if not files:
        raise DatasetError(f"no images found under {root}")
    return files


def read_gray(path: Path) -> np.ndarray:
    """The image at `path` as a 2-D uint8 grayscale array; raises DatasetError if unreadable."""
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise DatasetError(f"cannot read image: {path}")
    return image


def load_image_folder(root: str | Path) -> Dataset:
    """A dataset of 48x48 face crops laid out as `root/<label>/*.jpg`."""
    files = image_files(Path(root))
    images = np.empty((len(files), IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    for i, (path, _) in enumerate(files):
        image = read_gray(path)
        if image.shape != (IMAGE_SIZE, IMAGE_SIZE):
            raise DatasetError(
                f"{path} is {image.shape[1]}x{image.shape[0]}, expected {IMAGE_SIZE}x{IMAGE_SIZE}"
            )
        images[i] = image
    labels = np.array([label for _, label in files], np.int64)
    return Dataset(images, labels, [str(p) for p, _ in files])


def load_csv(path: str | Path, split: str) -> Dataset:
    """One split ('train', 'val' or 'test') of the original fer2013.csv (emotion,pixels,Usage)."""
    path = Path(path)
    if split not in CSV_SPLITS:
        raise DatasetError(f"unknown split {split!r}; expected one of {', '.join(CSV_SPLITS)}")
    if not path.is_file():
        raise DatasetError(f"CSV file not found: {path}")
    images, labels = [], []
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        missing = {"emotion", "pixels", "Usage"} - set(reader.fieldnames or ())
        if missing:
            raise DatasetError(f"{path} lacks column(s): {', '.join(sorted(missing))}")
        for row in reader:
            if row["Usage"] != CSV_SPLITS[split]:
                continue
            images.append(_csv_pixels(row, path, reader.line_num))
            labels.append(_csv_label(row, path, reader.line_num))
    if not labels:
        raise DatasetError(f"{path} has no rows for split {split!r} ({CSV_SPLITS[split]})")
    paths = [f"{path}#{i}" for i in range(len(labels))]
    return Dataset(np.stack(images), np.array(labels, np.int64), paths)


def _csv_label(row: dict[str, str], path: Path, line: int) -> int:
    try:
        label = int(row["emotion"])
    except (TypeError, ValueError):
        raise DatasetError(f"{path}:{line}: emotion {row['emotion']!r} is not an integer") from None
    if not 0 <= label < len(LABELS):
        raise DatasetError(f"{path}:{line}: emotion {label} is outside 0..{len(LABELS) - 1}")
    return label


def _csv_pixels(row: dict[str, str], path: Path, line: int) -> np.ndarray:
    try:
        values = np.array((row["pixels"] or "").split(), dtype=np.int64)
    except ValueError:
        raise DatasetError(f"{path}:{line}: pixels are not space-separated integers") from None
    if values.size != IMAGE_SIZE * IMAGE_SIZE or values.min() < 0 or values.max() > 255:
        raise DatasetError(
            f"{path}:{line}: expected {IMAGE_SIZE * IMAGE_SIZE} pixel values in 0..255, "
            f"got {values.size}"
        )
    return values.astype(np.uint8).reshape(IMAGE_SIZE, IMAGE_SIZE)


def pack(dataset: Dataset, folder: str | Path) -> int:
    """Write `dataset` to `folder` as a packed split; returns the bytes written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows = -(-len(dataset) // PACK_COLUMNS)
    tiles = np.zeros((rows * PACK_COLUMNS, IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    tiles[: len(dataset)] = dataset.images
    mosaic = (
        tiles.reshape(rows, PACK_COLUMNS, IMAGE_SIZE, IMAGE_SIZE)
        .transpose(0, 2, 1, 3)
        .reshape(rows * IMAGE_SIZE, PACK_COLUMNS * IMAGE_SIZE)
    )
    if not cv2.imwrite(str(folder / PACKED_FACES), mosaic, [cv2.IMWRITE_PNG_COMPRESSION, 9]):
        raise DatasetError(f"cannot write {folder / PACKED_FACES}")
    np.save(folder / PACKED_LABELS, dataset.labels.astype(np.int8))
    return sum((folder / name).stat().st_size for name in (PACKED_FACES, PACKED_LABELS))


def save_image_folder(dataset: Dataset, folder: str | Path) -> int:
    """Write `dataset` as `folder/<label>/<index>.png`; returns the bytes written.

    Named by index, not by source file: faces from a CSV or a packed split share one file name.
    """
    written = 0
    for index, (image, label) in enumerate(zip(dataset.images, dataset.labels, strict=True)):
        path = Path(folder) / LABELS[label] / f"{index:05d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(path), image):
            raise DatasetError(f"cannot write {path}")
        written += path.stat().st_size
    return written


def load_packed(folder: str | Path) -> Dataset:
    """A split that `pack` wrote."""
    folder = Path(folder)
    try:
        labels = np.load(folder / PACKED_LABELS).astype(np.int64)
    except (OSError, ValueError) as exc:
        raise DatasetError(f"packed labels {folder / PACKED_LABELS} unreadable: {exc}") from None
    mosaic = read_gray(folder / PACKED_FACES)
    rows = -(-len(labels) // PACK_COLUMNS)
    if labels.ndim != 1 or mosaic.shape != (rows * IMAGE_SIZE, PACK_COLUMNS * IMAGE_SIZE):
        raise DatasetError(
            f"{folder / PACKED_FACES} is {mosaic.shape[1]}x{mosaic.shape[0]}, which does not "
            f"hold the {len(labels)} faces that {PACKED_LABELS} lists; pack the split again"
        )
    if len(labels) and not 0 <= labels.min() <= labels.max() < len(LABELS):
        raise DatasetError(f"{folder / PACKED_LABELS} holds labels outside 0..{len(LABELS) - 1}")
    tiles = (
        mosaic.reshape(rows, IMAGE_SIZE, PACK_COLUMNS, IMAGE_SIZE)
        .transpose(0, 2, 1, 3)
        .reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    )
    if tiles[len(labels) :].any():  # `pack` leaves the tiles after the last face blank
        raise DatasetError(
            f"{folder / PACKED_FACES} holds more faces than the {len(labels)} that "
            f"{PACKED_LABELS} lists; pack the split again"
        )
    images = tiles[: len(labels)]
    paths = [f"{folder / PACKED_FACES}#{i}" for i in range(len(labels))]
    return Dataset(np.ascontiguousarray(images), labels, paths)


def load(source: str | Path, split: str = "train") -> Dataset:
    """An image folder, a packed split, or a split of a fer2013.csv when `source` is a .csv."""
    if Path(source).suffix.lower() == ".csv":
        return load_csv(source, split)
    if (Path(source) / PACKED_LABELS).is_file():
        return load_packed(source)
    return load_image_folder(source)
