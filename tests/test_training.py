"""The training pipeline end to end on a tiny sample: train, export, evaluate the host's way."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from training.data import LABELS, DatasetError, load, load_csv, load_image_folder
from training.recipe import Recipe

REPO = Path(__file__).resolve().parent.parent
TINY_MODEL = {"stem_width": 8, "widths": (8, 16), "blocks": (1, 0)}
TINY = Recipe(epochs=2, architecture=TINY_MODEL)


@pytest.fixture(scope="module")
def trained(fer_sample, tmp_path_factory):
    """A tiny model trained for one epoch on the sample, and its .tflite export."""
    from training.export import export
    from training.train import train

    run = tmp_path_factory.mktemp("run")
    train(str(fer_sample), str(run), TINY, verbose=0)
    exported = run / "export"
    export([run / "model.keras"], exported, flip_average=True)
    return run, exported


def test_training_writes_model_log_curves_and_resumes(trained, fer_sample, tmp_path):
    from training.train import epochs_done, train

    run = shutil.copytree(trained[0], tmp_path / "run")
    for name in ("model.keras", "last.keras", "log.csv", "curves.png", "run.json"):
        assert (run / name).is_file(), name
    assert epochs_done(run / "log.csv") == 2
    # Finished: rerunning the same command trains nothing more.
    log = (run / "log.csv").read_text()
    train(str(fer_sample), str(run), TINY, verbose=0)
    assert (run / "log.csv").read_text() == log


def test_a_run_stopped_between_checkpoints_reruns_the_lost_epochs(trained, fer_sample, tmp_path):
    from training.train import epochs_done, train

    run = shutil.copytree(trained[0], tmp_path / "run")
    log = (run / "log.csv").read_text().splitlines()
    assert "seconds" in log[0].split(",")
    # Two more epochs logged, then killed before their checkpoint was written.
    (run / "log.csv").write_text(
        "\n".join(log + [f"{n}," + log[-1].split(",", 1)[1] for n in (2, 3)])
    )
    train(str(fer_sample), str(run), TINY, verbose=0)
    assert epochs_done(run / "log.csv") == 2
    with (run / "log.csv").open() as f:
        assert [row.split(",")[0] for row in f.read().splitlines()[1:]] == ["0", "1"]


def test_a_killed_run_keeps_its_checkpoint_and_wall_time(fer_sample, tmp_path, monkeypatch):
    import training.train as training_run

    class Killed(Exception):
        pass

    monkeypatch.setattr(training_run, "EPOCHS_PER_FIT", 1)
    lay_out = training_run.laid_end_to_end
    spans_started = []

    def killed_before_the_second_span(epochs):
        spans_started.append(len(epochs))
        if len(spans_started) == 2:
            raise Killed
        return lay_out(epochs)

    monkeypatch.setattr(training_run, "laid_end_to_end", killed_before_the_second_span)
    with pytest.raises(Killed):
        training_run.train(str(fer_sample), str(tmp_path), TINY, verbose=0)
    info = json.loads((tmp_path / "run.json").read_text())
    assert info["checkpoint_epochs"] == 1
    assert len(info["wall_seconds"]) == 1 and info["wall_seconds"][0] > 0
    # Rerun, the same command trains the epoch it lacks, as a second sitting.
    monkeypatch.setattr(training_run, "laid_end_to_end", lay_out)
    training_run.train(str(fer_sample), str(tmp_path), TINY, verbose=0)
    assert training_run.epochs_done(tmp_path / "log.csv") == 2
    assert len(json.loads((tmp_path / "run.json").read_text())["wall_seconds"]) == 2


def test_tflite_agrees_with_keras(trained, fer_sample):
    import keras

    from host.vision.emotion import EmotionModel
    from training.export import inference_model

    run, exported = trained
    keras_model = inference_model([keras.models.load_model(run / "model.keras")], True)
    sample = load_image_folder(fer_sample / "val")
    expected = keras_model.predict(sample.images[..., None].astype(np.float32), verbose=0)
    runtime = EmotionModel.load(exported)
    got = np.stack([runtime.predict(image) for image in sample.images])
    assert np.abs(got - expected).max() < 1e-3
    top_two = np.sort(expected, axis=1)[:, -2:]
    clear = top_two[:, 1] - top_two[:, 0] > 2e-3  # a near-tie may flip within rounding
    assert np.array_equal(got.argmax(1)[clear], expected.argmax(1)[clear])
    contract = json.loads((exported / "model.json").read_text())
    assert contract["labels"] == list(LABELS)


def test_an_ensemble_exports_as_one_model_averaging_its_members(trained, fer_sample, tmp_path):
    import keras

    from host.vision.emotion import EmotionModel
    from training.train import train

    run, _ = trained
    other = tmp_path / "other"
    train(str(fer_sample), str(other), replace(TINY, epochs=1, seed=7), verbose=0)
    exported = tmp_path / "ensemble"
    subprocess.run(
        [sys.executable, "-m", "training", "export", "--out", str(exported),
         "--keras", str(run / "model.keras"), str(other / "model.keras"),
         "--run", str(run), str(other)],
        cwd=REPO, capture_output=True, text=True, timeout=180, check=True,
    )  # fmt: skip
    sample = load_image_folder(fer_sample / "val")
    faces = sample.images[..., None].astype(np.float32)
    expected = np.zeros((len(faces), len(LABELS)))
    for path in (run / "model.keras", other / "model.keras"):
        logits = keras.models.load_model(path).predict(faces, verbose=0)
        mirrored = keras.models.load_model(path).predict(faces[:, :, ::-1], verbose=0)
        expected += (keras.ops.softmax(logits) + keras.ops.softmax(mirrored)).numpy() / 4
    runtime = EmotionModel.load(exported)
    got = np.stack([runtime.predict(image) for image in sample.images])
    assert np.abs(got - expected).max() < 1e-3
    contract = json.loads((exported / "model.json").read_text())
    assert contract["ensemble_members"] == 2
    assert [t["seed"] for t in contract["training"]] == [1337, 7]
    assert (exported / f"learning_curves_{other.name}.png").is_file()


def evaluate_cli(data: Path, model_dir: Path, *flags: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "training", "evaluate", "--data", str(data),
         "--model-dir", str(model_dir), "--json", *flags],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)


def test_evaluate_cli_on_face_crops(trained, fer_sample):
    _, exported = trained
    report = evaluate_cli(fer_sample / "val", exported)
    assert report["n"] == 14
    assert set(report["recall"]) == set(LABELS)
    matrix = np.array(report["confusion_matrix"]["rows_true_cols_predicted"])
    assert matrix.sum() == 14
    assert np.trace(matrix) / 14 == pytest.approx(report["accuracy"], abs=1e-4)
    assert report["faces_missed"] == 0


def test_evaluate_cli_detects_faces_in_full_photos(trained, fer_sample, tmp_path):
    _, exported = trained
    photos = tmp_path / "photos"
    for label in ("happy", "sad"):
        (photos / label).mkdir(parents=True)
        for path in sorted((fer_sample / "val" / label).iterdir()):
            face = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            padded = cv2.copyMakeBorder(face, 12, 12, 12, 12, cv2.BORDER_REPLICATE)
            photo = np.full((400, 500), 90, np.uint8)
            photo[80:296, 140:356] = cv2.resize(padded, (216, 216))
            cv2.imwrite(str(photos / label / f"{path.stem}.png"), photo)
    blank = np.full((300, 300), 128, np.uint8)
    cv2.imwrite(str(photos / "sad" / "empty_wall.tiff"), blank)
    report = evaluate_cli(photos, exported, "--detect-faces")
    assert report["n"] == 5
    assert report["faces_missed"] >= 1  # the empty wall
    assert set(report["recall"]) == {"happy", "sad"}


def test_evaluate_cli_names_a_missing_model(fer_sample, tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "training", "evaluate", "--data", str(fer_sample / "val"),
         "--model-dir", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 2
    assert "model.json" in out.stderr


def test_loader_rejects_unknown_class_folder(tmp_path):
    (tmp_path / "happy").mkdir()
    (tmp_path / "bored").mkdir()
    with pytest.raises(DatasetError, match="bored"):
        load_image_folder(tmp_path)


def test_loader_rejects_wrong_image_size(tmp_path):
    (tmp_path / "happy").mkdir()
    cv2.imwrite(str(tmp_path / "happy" / "big.png"), np.zeros((64, 64), np.uint8))
    with pytest.raises(DatasetError, match="64x64"):
        load_image_folder(tmp_path)


def test_loader_rejects_empty_and_missing_folders(tmp_path):
    with pytest.raises(DatasetError, match="not found"):
        load_image_folder(tmp_path / "nowhere")
    with pytest.raises(DatasetError, match="no class folders"):
        load_image_folder(tmp_path)
    (tmp_path / "sad").mkdir()
    with pytest.raises(DatasetError, match="no images"):
        load_image_folder(tmp_path)


def test_a_packed_split_loads_the_faces_and_labels_it_was_given(fer_sample, tmp_path):
    from training.data import PACKED_LABELS, pack, save_image_folder

    faces = load_image_folder(fer_sample / "train")
    written = pack(faces, tmp_path / "packed")
    back = load(tmp_path / "packed")
    assert np.array_equal(back.images, faces.images)
    assert np.array_equal(back.labels, faces.labels)
    assert written == sum(f.stat().st_size for f in (tmp_path / "packed").iterdir())
    # Faces from a packed split all come from one file; as an image folder each keeps its own.
    save_image_folder(back, tmp_path / "folder")
    again = load(tmp_path / "folder")
    assert len(again) == len(faces) and np.array_equal(np.sort(again.labels), np.sort(faces.labels))

    # Labels that do not match the faces: the split is refused, not read with faces lost.
    for kept in (len(faces) - 1, len(faces) + 200):
        labels = np.resize(faces.labels, kept).astype(np.int8)
        np.save(tmp_path / "packed" / PACKED_LABELS, labels)
        with pytest.raises(DatasetError, match=r"faces.*pack the split again"):
            load(tmp_path / "packed")


def test_csv_loader_reads_a_split_and_names_a_bad_row(tmp_path):
    pixels = " ".join(["128"] * 48 * 48)
    good = tmp_path / "fer2013.csv"
    good.write_text(
        f"emotion,pixels,Usage\n3,{pixels},Training\n5,{pixels},PublicTest\n0,{pixels},Training\n"
    )
    train = load(good, "train")
    assert len(train) == 2 and train.labels.tolist() == [3, 0]
    assert train.images.shape == (2, 48, 48)
    bad = tmp_path / "bad.csv"
    bad.write_text(f"emotion,pixels,Usage\n3,{pixels},Training\n9,1 2 3,Training\n")
    with pytest.raises(DatasetError, match=r"bad\.csv:3"):
        load_csv(bad, "train")
    with pytest.raises(DatasetError, match="lacks column"):
        (tmp_path / "cols.csv").write_text("label,pixels\n")
        load_csv(tmp_path / "cols.csv", "train")


def test_warm_restart_starts_from_the_trained_weights(trained, fer_sample, tmp_path):
    import keras

    from training.train import train

    run, _ = trained
    start = keras.models.load_model(run / "model.keras")
    restarted = train(
        str(fer_sample), str(tmp_path / "restart"), verbose=0,
        recipe=Recipe(
            epochs=1, init_from=str(run / "model.keras"), peak_learning_rate=1e-9, warmup_epochs=0
        ),
    )  # fmt: skip
    # With a vanishing learning rate the weights stay where the first run left them.
    for before, after in zip(start.weights, restarted.weights, strict=True):
        if "moving" not in before.path:
            assert np.allclose(before.numpy(), after.numpy(), atol=1e-5), before.path
    info = json.loads((tmp_path / "restart" / "run.json").read_text())
    assert info["recipe"]["init_from"].endswith("model.keras")
