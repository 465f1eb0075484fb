"""Augmented epochs: the same faces, labels and pixels however many worker processes make them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

from training.augment import AugmentConfig, EpochLoader, TrainingEpochs, laid_end_to_end
from training.data import LABELS, load_image_folder

REPO = Path(__file__).resolve().parent.parent


def make_epochs(fer_sample) -> TrainingEpochs:
    train = load_image_folder(fer_sample / "train")
    weights = np.linspace(0.5, 2.0, len(LABELS))
    return TrainingEpochs(
        train.images, train.labels, len(LABELS), weights, AugmentConfig(), seed=3, batch_size=8
    )


def test_worker_processes_make_the_epochs_the_training_process_would(fer_sample):
    source = make_epochs(fer_sample)
    with EpochLoader(source, workers=2) as loader:
        images, labels, weights = laid_end_to_end(loader.span(4, 6))
    expected = [
        np.concatenate(column) for column in zip(source.arrays(4), source.arrays(5), strict=True)
    ]
    assert np.array_equal(images, expected[0])
    assert np.array_equal(labels, expected[1])
    assert np.array_equal(weights, expected[2])


def test_an_epoch_is_full_batches_of_augmented_faces_with_their_labels(fer_sample):
    source = make_epochs(fer_sample)
    images, labels, weights = source.arrays(0)
    assert len(images) == source.steps_per_epoch * source.batch_size
    assert images.shape[1:] == (48, 48, 1) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 255.0
    assert np.allclose(labels.sum(axis=1), 1.0)
    classes = labels.argmax(axis=1)
    assert np.allclose(weights, np.linspace(0.5, 2.0, len(LABELS))[classes])
    assert not np.array_equal(images, source.arrays(1)[0])  # each epoch is augmented afresh


def test_mixup_blends_each_view_with_another_and_its_label_and_weight_alike(fer_sample):
    plain, mixed = make_epochs(fer_sample), make_epochs(fer_sample)
    mixed.mixup_alpha = 0.4
    views, labels, weights = plain.arrays(2)
    blends, targets, blend_weights = mixed.arrays(2)
    assert np.array_equal(mixed.arrays(2)[0], blends)  # an epoch replays from (seed, epoch)
    assert np.allclose(targets.sum(axis=1), 1.0)
    # Each view keeps the larger share, so its own label still leads...
    own = labels.argmax(axis=1)
    assert (targets[np.arange(len(own)), own] >= 0.5 - 1e-6).all()
    assert (targets.max(axis=1) < 1.0).any()
    # ...and every blend is that share of its view plus the rest of another from its batch.
    share = targets[np.arange(len(own)), own]
    for row in np.flatnonzero(targets.max(axis=1) < 0.999)[:10]:
        batch = slice(row - row % plain.batch_size, row - row % plain.batch_size + plain.batch_size)
        rest = (blends[row] - share[row] * views[row]) / (1 - share[row])
        distances = np.abs(views[batch] - rest).max(axis=(1, 2, 3))
        partner = batch.start + distances.argmin()
        assert distances.min() < 0.05
        expected_weight = share[row] * weights[row] + (1 - share[row]) * weights[partner]
        assert np.isclose(blend_weights[row], expected_weight, atol=1e-5)


def test_killing_a_training_run_leaves_no_augmenting_workers_behind(fer_sample, tmp_path):
    script = tmp_path / "trainer.py"
    script.write_text(
        textwrap.dedent(f"""
            import multiprocessing, sys, time
            sys.path.insert(0, {str(REPO)!r})
            from pathlib import Path
            from tests.test_augment import make_epochs
            from training.augment import EpochLoader, laid_end_to_end

            if __name__ == "__main__":
                with EpochLoader(make_epochs(Path({str(fer_sample)!r})), workers=2) as loader:
                    laid_end_to_end(loader.span(0, 2))
                    print(*[p.pid for p in multiprocessing.active_children()], flush=True)
                    time.sleep(60)
        """)
    )
    trainer = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    children = [int(pid) for pid in trainer.stdout.readline().split()]
    assert children
    trainer.kill()
    trainer.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(alive(pid) for pid in children):
        time.sleep(0.2)
    assert not any(alive(pid) for pid in children)


def alive(pid: int) -> bool:
    """Whether a process of this id still runs (a zombie awaiting its reaper counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split(") ")[1].startswith("Z"))
