"""Export trained Keras models to the shipped artifact: `emotion.tflite` + `model.json`.

The exported graph takes the raw 48x48 grayscale crop (float 0..255) and returns the seven
probabilities. Given several models it averages their probabilities (an ensemble, one graph, one
LiteRT call). With `flip_average` each model also reads the mirrored face, which buys accuracy
for a second pass. `int8` quantises weights and activations (inputs and outputs stay float),
calibrated on training faces.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np

from host.vision.emotion import CONTRACT_FILE, MODEL_FILE
from host.vision.faces import CROP_SIZE
from training.architectures import load_network
from training.data import LABELS, Dataset

# The crop the host cuts around a Haar box: its side is the box's times (1 + CROP_MARGIN), chosen
# so live crops frame a face as FER-2013's do (`python -m training haar-framing`). The export
# writes it into model.json, which is where the host reads it; changing it needs a re-export.
CROP_MARGIN = 0.02

CALIBRATION_IMAGES = 500
# Issue 14's rule for shipping a new model, written before its candidate was measured: better
# than the shipped model on val, at no more than this share of its time a face side by side.
MAX_LATENCY_RATIO = 0.7
# Its third condition, added when a candidate met the first two with a mood that lagged and
# flickered more (model card): through the host's mood tracker, over these seeds' videos of val
# faces (training/mood_calibration.py), a p95 latency and false switches a minute no worse than
# the shipped model's.
MOOD_SEEDS = (1, 2, 3, 4)


def inference_model(models: Sequence[keras.Model], flip_average: bool) -> keras.Model:
    """The mean of `models`' softmax outputs, each optionally also read on the mirror image."""
    inputs = keras.Input(models[0].input_shape[1:], name="face")
    # Members trained from one recipe share a name; a graph needs each sub-model's unique.
    models = [
        keras.Model(model.inputs[0], model.outputs[0], name=f"member_{i}")
        for i, model in enumerate(models, 1)
    ]
    views = [inputs]
    if flip_average:
        views.append(keras.layers.Lambda(lambda x: keras.ops.flip(x, axis=2))(inputs))
    readings = [keras.layers.Softmax()(model(view)) for model in models for view in views]
    probabilities = keras.layers.Average()(readings) if len(readings) > 1 else readings[0]
    return keras.Model(inputs, probabilities, name="emotion")


def to_tflite(model: keras.Model, int8: bool, calibration: Dataset | None = None) -> bytes:
    """The model as a .tflite flatbuffer (needs the TensorFlow backend's converter)."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if int8:
        if calibration is None:
            raise ValueError("int8 export needs calibration images")
        rng = np.random.default_rng(0)
        rows = rng.choice(len(calibration), min(CALIBRATION_IMAGES, len(calibration)), False)
        samples = calibration.images[rows].astype(np.float32)[..., None]
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([s[None]] for s in samples)
    return converter.convert()


def export(
    keras_paths: Sequence[str | Path],
    out_dir: str | Path,
    flip_average: bool = True,
    int8: bool = False,
    calibration: Dataset | None = None,
    extra: dict | None = None,
) -> Path:
    """Write emotion.tflite and model.json into `out_dir`; returns the .tflite path.

    Two or more `keras_paths` are exported as one ensemble averaging their probabilities.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # Not compiled: only the forward pass is exported, and a student's distillation loss is
    # training's business.
    members = [load_network(path) for path in keras_paths]
    model = inference_model(members, flip_average)
    path = out / MODEL_FILE
    path.write_bytes(to_tflite(model, int8, calibration))
    contract = {
        "name": "moodnet" if len(members) == 1 else f"moodnet-ensemble-{len(members)}",
        "labels": list(LABELS),
        "input_shape": [CROP_SIZE, CROP_SIZE, 1],
        "input": "grayscale face crop, float32 pixel values 0..255, no normalisation",
        "output": "probabilities in label order (softmax)",
        "crop": {
            "margin": CROP_MARGIN,
            "rule": "square of side max(w, h) * (1 + margin) centred on the Haar box, edges "
            "replicated; INTER_AREA when shrinking, INTER_LINEAR when enlarging "
            "(host/vision/faces.py crop_face)",
        },
        "ensemble_members": len(members),
        "flip_average": flip_average,
        "quantization": "int8" if int8 else "float32",
        "size_bytes": path.stat().st_size,
        **(extra or {}),
    }
    (out / CONTRACT_FILE).write_text(json.dumps(contract, indent=2) + "\n")
    return path


def measure_latency_ms(model_dir: str | Path, runs: int = 1000, repeats: int = 5) -> dict:
    """Milliseconds for one face through the host's LiteRT runner, one thread.

    On a shared machine one sitting can land well above the model's real speed, so the runs are
    split into `repeats` sittings: the median of their medians, and the spread of those medians.
    """
    from host.vision.emotion import EmotionModel

    model = EmotionModel.load(model_dir, threads=1)
    crop = np.random.default_rng(0).integers(0, 256, (CROP_SIZE, CROP_SIZE), np.uint8)
    for _ in range(20):
        model.predict(crop)
    medians, timings = [], []
    for _ in range(repeats):
        sitting = []
        for _ in range(runs):
            start = time.perf_counter()
            model.predict(crop)
            sitting.append((time.perf_counter() - start) * 1e3)
        medians.append(float(np.median(sitting)))
        timings += sitting
    return {
        "median": round(float(np.median(medians)), 3),
        "sitting_median_range": [round(min(medians), 3), round(max(medians), 3)],
        "p95": round(float(np.percentile(timings, 95)), 3),
        "faces": runs * repeats,
    }


def compare_latency(
    model_dir: str | Path, reference_dir: str | Path, runs: int = 500, sittings: int = 8
) -> dict:
    """Two models' milliseconds a face in alternating sittings, and the ratio within each pair.

    This machine switches between speed phases about 1.8x apart for minutes at a time, so two
    models measured minutes apart can differ by the phase alone; sittings taken back to back
    mostly share one, and the median of the pairs' ratios is the figure that compares them.
    """
    ours, theirs = [], []
    for sitting in range(sittings):
        # Alternate which goes first, so neither always inherits the other's warm caches.
        pair = (model_dir, reference_dir) if sitting % 2 == 0 else (reference_dir, model_dir)
        timed = {str(d): measure_latency_ms(d, runs=runs, repeats=1)["median"] for d in pair}
        ours.append(timed[str(model_dir)])
        theirs.append(timed[str(reference_dir)])
    ratios = [a / b for a, b in zip(ours, theirs, strict=True)]
    return {
        "reference": str(reference_dir),
        "sittings": sittings,
        "faces_per_sitting": runs,
        "ms": [round(v, 3) for v in ours],
        "reference_ms": [round(v, 3) for v in theirs],
        "ratio_median": round(float(np.median(ratios)), 3),
        "ratio_range": [round(min(ratios), 3), round(max(ratios), 3)],
    }


def compare_mood(
    model_dir: str | Path, reference_dir: str | Path, faces_dir: str | Path, seeds: tuple[int, ...]
) -> dict:
    """Both models' mood figures at the host's settings over the same videos, and whether the
    first's p95 latency and false switches a minute are no worse than the reference's."""
    from training.mood_calibration import host_mood

    figures = ("latency_median_s", "latency_p95_s", "changes_missed", "changes",
               "false_switches_per_minute")  # fmt: skip
    ours, theirs = (
        {k: v for k, v in row.items() if k in figures}
        for row in host_mood(faces_dir, [model_dir, reference_dir], seeds)
    )

    def figure(row: dict, name: str) -> float:
        return float("inf") if row[name] is None else row[name]  # None: no change was caught

    return {
        "seeds": list(seeds),
        "ours": ours,
        "reference": theirs,
        "no_worse": all(
            figure(ours, name) <= figure(theirs, name)
            for name in ("latency_p95_s", "false_switches_per_minute")
        ),
    }


def record_measurements(
    model_dir: str | Path,
    val_dir: str | Path | None,
    run_dirs: Sequence[str | Path] = (),
    against: str | Path | None = None,
    mood_seeds: tuple[int, ...] = MOOD_SEEDS,
) -> dict:
    """Measure the exported model and write the figures into its model.json; returns them.

    With `val_dir`: accuracy, macro F1 and per-class recall through the host's own crop and
    runner, plus a confusion-matrix PNG. With `run_dirs` (one per ensemble member): each training
    run's recipe and wall time, and its learning curves copied beside the model. With `against`
    (the shipped model's folder): both models' latency in interleaved sittings and, with
    `val_dir`, the reference's val accuracy measured the same way in the same sitting and both
    models' mood figures over `mood_seeds`' videos of val faces.
    """
    from training.evaluate import evaluate, plot_confusion

    out = Path(model_dir)
    contract = json.loads((out / CONTRACT_FILE).read_text())
    metrics = {"ms_per_face_one_thread": measure_latency_ms(out)}
    if val_dir is not None:
        report = evaluate(val_dir, out).report()
        plot_confusion(
            report, out / "confusion_val.png", f"val (FER-2013 PublicTest, n={report['n']})"
        )
        metrics["val"] = {
            k: report[k] for k in ("n", "accuracy", "macro_f1", "recall", "faces_missed")
        }
        metrics["val"]["data"] = str(val_dir)
    if against is not None:
        metrics["against"] = compare_latency(out, against)
        if val_dir is not None:
            theirs = evaluate(val_dir, against).report()["accuracy"]
            mood = compare_mood(out, against, val_dir, mood_seeds)
            metrics["against"]["val_accuracy"] = theirs
            metrics["against"]["mood"] = mood
            metrics["against"]["meets_shipping_rule"] = bool(
                metrics["val"]["accuracy"] > theirs
                and metrics["against"]["ratio_median"] <= MAX_LATENCY_RATIO
                and mood["no_worse"]
            )
            metrics["against"]["shipping_rule"] = (
                f"val accuracy above the reference's, at <= {MAX_LATENCY_RATIO}x its latency "
                "(median ratio of interleaved sittings), with a mood p95 latency and false "
                "switches a minute no worse than the reference's (the host's mood settings)"
            )
    contract["metrics"] = metrics
    if run_dirs:
        contract["training"] = [describe_run(Path(run_dir), out) for run_dir in run_dirs]
    (out / CONTRACT_FILE).write_text(json.dumps(contract, indent=2) + "\n")
    return contract


def describe_run(run_dir: Path, model_dir: Path) -> dict:
    """A training run's command, recipe and wall time; copies its curves to model_dir."""
    from training.cli import command_line
    from training.recipe import Recipe
    from training.train import epochs_done, plot_curves

    run = json.loads((run_dir / "run.json").read_text())
    recipe = Recipe.from_dict(run["recipe"])
    plot_curves(run_dir / "log.csv", model_dir / f"learning_curves_{run_dir.name}.png")
    command = command_line(recipe, run["data"], str(run_dir), run.get("workers", 1))
    if run.get("backend", "tensorflow") != "tensorflow":
        command = f"KERAS_BACKEND={run['backend']} {command}"
    return {
        "command": command,
        "epochs": recipe.epochs,
        "epochs_trained": epochs_done(run_dir / "log.csv"),
        "seed": recipe.seed,
        "wall_seconds": round(sum(run["wall_seconds"]), 1),
        "device": run.get("device", "CPU"),
        "params": run["params"],
        "forward_mflops": run["forward_mflops"],
        "train_counts": run["train_counts"],
        "holdout_counts": run.get("holdout_counts"),
        "recipe": run["recipe"],
    }
