"""A soup: several networks of one shape averaged into one, its batch norms measured again."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from readings import probabilities

REPO = Path(__file__).resolve().parent.parent


def test_a_soup_of_one_network_twice_reads_faces_as_that_network(
    shipped_networks, sample_faces, tmp_path
):
    from training.architectures import load_network
    from training.soup import make_soup

    out = tmp_path / "g_twice.keras"
    make_soup([shipped_networks[0], shipped_networks[0]], sample_faces, out)
    network, soup = load_network(shipped_networks[0]), load_network(out)
    assert soup.count_params() == network.count_params()
    agreement = np.mean(
        probabilities(soup, sample_faces).argmax(1)
        == probabilities(network, sample_faces).argmax(1)
    )
    assert agreement >= 0.9


def test_the_soups_batch_norms_describe_its_own_convs(shipped_networks, sample_faces):
    """Averaged convs give other outputs than any network's statistics describe; measured again,
    the soup normalises these faces in inference as a batch of them normalises itself."""
    from training.architectures import build_moodnet, load_network
    from training.soup import average_weights, measure_norm_statistics

    shipped = load_network(shipped_networks[0])
    keras.utils.set_random_seed(0)
    untrained = build_moodnet(blocks=(1, 1, 1, 1))  # the shipped network's shape
    soup = average_weights([shipped, untrained])
    for layer in soup.layers:
        if isinstance(layer, keras.layers.Dropout):
            layer.rate = 0.0
    stale = np.abs(
        probabilities(soup, sample_faces) - probabilities(soup, sample_faces, training=True)
    ).mean()
    measure_norm_statistics(soup, sample_faces)
    inference = probabilities(soup, sample_faces)
    training = probabilities(soup, sample_faces, training=True)
    assert np.abs(training - inference).mean() < 0.002 < stale


def test_networks_of_different_shapes_are_refused_by_name():
    from training.architectures import build_moodnet
    from training.soup import SoupError, average_weights

    small = build_moodnet(stem_width=8, widths=(8, 16), blocks=(1, 0))
    wider = build_moodnet(stem_width=8, widths=(8, 32), blocks=(1, 0))
    with pytest.raises(SoupError, match="network 2 is not the shape of network 1"):
        average_weights([small, wider])
    with pytest.raises(SoupError, match="at least two"):
        average_weights([small])


def test_the_soup_command_writes_one_network_and_names_a_missing_one(fer_sample, tmp_path):
    from training.architectures import build_moodnet

    for seed in (1, 2):
        keras.utils.set_random_seed(seed)
        build_moodnet(stem_width=8, widths=(8, 16), blocks=(1, 0)).save(tmp_path / f"{seed}.keras")
    command = [sys.executable, "-m", "training", "soup", "--data", str(fer_sample / "train")]
    made = subprocess.run(
        [*command, "--keras", str(tmp_path / "1.keras"), str(tmp_path / "2.keras"),
         "--out", str(tmp_path / "soup.keras")],
        capture_output=True, text=True, cwd=REPO, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "soup.keras").is_file()
    # Each network's and the soup's reading of the held-out slice, the soup's last.
    accuracies = made.stdout.split("held-out slice of train")[1].splitlines()[1:]
    assert [line.split()[-1] for line in accuracies] == [
        str(tmp_path / name) for name in ("1.keras", "2.keras", "soup.keras")
    ]
    missing = subprocess.run(
        [*command, "--keras", str(tmp_path / "1.keras"), str(tmp_path / "absent.keras"),
         "--out", str(tmp_path / "other.keras")],
        capture_output=True, text=True, cwd=REPO, check=False,
    )  # fmt: skip
    assert missing.returncode == 2
    assert "absent.keras is unreadable" in missing.stderr
    assert "Traceback" not in missing.stderr
