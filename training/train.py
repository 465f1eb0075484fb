"""Train the emotion model on FER-2013.

    python -m training train --data ../shared/datasets/fer2013 --out runs/moodnet

Writes into --out: `last.keras` (after every few epochs; a rerun of the same command resumes
from it), `log.csv` (loss, accuracy and seconds per epoch), `model.keras` (the final model) and
`curves.png`. The same code trains on Keras's JAX or torch backend (`KERAS_BACKEND=jax`), which
is how it runs on a GPU machine without TensorFlow.
The final epoch's weights are shipped; `val` is only watched, never used to pick an epoch, so
its figure stays an honest estimate.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import keras
import numpy as np

from training.architectures import build_moodnet, forward_flops
from training.augment import (
    AugmentConfig,
    EpochLoader,
    TrainingEpochs,
    balanced_weights,
    laid_end_to_end,
    one_hot,
)
from training.data import LABELS, load

EPOCHS = 50
BATCH_SIZE = 128
PEAK_LEARNING_RATE = 0.05
WARMUP_EPOCHS = 2
MOMENTUM = 0.9
WEIGHT_DECAY = 5e-3  # decoupled, so ~10x the coupled L2 that SGD with momentum 0.9 would use
LABEL_SMOOTHING = 0.1
CLASS_WEIGHT_POWER = 0.5  # 0 = plain loss, 1 = fully balanced; 0.5 keeps disgust and fear heard
SEED = 1337
# Each `fit` call ends by tearing down a tf.data iterator, which stalls ~40 s on this machine;
# so one call trains several epochs, laid end to end in one array, and checkpoints once.
EPOCHS_PER_FIT = 8
WORKERS = 1  # augmenting processes: one keeps up with this CPU; the H200 run used 12


def make_optimizer(
    steps_per_epoch: int,
    epochs: int,
    peak: float = PEAK_LEARNING_RATE,
    warmup_epochs: int = WARMUP_EPOCHS,
) -> keras.optimizers.Optimizer:
    """SGD with Nesterov momentum, linear warm-up to `peak`, then cosine decay to zero."""
    warmup = warmup_epochs * steps_per_epoch
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0,
        warmup_target=peak,
        warmup_steps=warmup,
        decay_steps=max(1, epochs * steps_per_epoch - warmup),
    )
    optimizer = keras.optimizers.SGD(
        schedule, momentum=MOMENTUM, nesterov=True, weight_decay=WEIGHT_DECAY
    )
    optimizer.exclude_from_weight_decay(var_names=["gamma", "beta", "bias"])
    return optimizer


def compile_model(
    model: keras.Model,
    steps_per_epoch: int,
    epochs: int,
    peak: float = PEAK_LEARNING_RATE,
    warmup_epochs: int = WARMUP_EPOCHS,
) -> None:
    model.compile(
        optimizer=make_optimizer(steps_per_epoch, epochs, peak, warmup_epochs),
        loss=keras.losses.CategoricalCrossentropy(
            from_logits=True, label_smoothing=LABEL_SMOOTHING
        ),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
        # With TensorFlow, XLA is slower than oneDNN's kernels for this small net on CPU (70 vs
        # 125 s an epoch); JAX has no other way to run fast.
        jit_compile=keras.backend.backend() == "jax",
    )


def epochs_done(log_path: Path) -> int:
    """How many epochs the CSV log records (0 when there is none)."""
    if not log_path.exists():
        return 0
    with log_path.open() as f:
        return sum(1 for _ in csv.DictReader(f))


def checkpointed_epochs(out: Path) -> int:
    """How many epochs `last.keras` holds (0 when there is none)."""
    if not (out / "last.keras").exists():
        return 0
    return _load_run_info(out).get("checkpoint_epochs", epochs_done(out / "log.csv"))


def trim_log(log_path: Path, epochs: int) -> None:
    """Drop log rows past `epochs`: those epochs ran after the last checkpoint and will rerun."""
    if epochs_done(log_path) <= epochs:
        return
    lines = log_path.read_text().splitlines(keepends=True)
    log_path.write_text("".join(lines[: epochs + 1]))


class EpochTimer(keras.callbacks.Callback):
    """Adds each epoch's wall seconds to its logs (so to log.csv), validation included."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.started = time.monotonic()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs["seconds"] = round(time.monotonic() - self.started, 2)


def train(
    data_dir: str,
    out_dir: str,
    epochs: int = EPOCHS,
    seed: int = SEED,
    model_kwargs: dict | None = None,
    verbose: int = 1,
    workers: int = WORKERS,
    init_from: str | None = None,
    peak_learning_rate: float = PEAK_LEARNING_RATE,
    warmup_epochs: int = WARMUP_EPOCHS,
) -> keras.Model:
    """Train (or resume) a model on `data_dir/train`, watching `data_dir/val`; returns it.

    `init_from` starts from a trained model's weights instead of a fresh network (a warm
    restart: a new cosine cycle from `peak_learning_rate`).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(seed)
    train_set, val_set = load(Path(data_dir) / "train"), load(Path(data_dir) / "val")
    weights = balanced_weights(train_set.class_counts(), CLASS_WEIGHT_POWER)
    epochs_source = TrainingEpochs(
        train_set.images, train_set.labels, len(LABELS), weights, AugmentConfig(), seed
    )
    val_images = val_set.images[..., None].astype(np.float32)
    validation = (val_images, one_hot(val_set.labels, len(LABELS)))
    steps_per_epoch = epochs_source.steps_per_epoch

    log_path, last_path = out / "log.csv", out / "last.keras"
    start_epoch = checkpointed_epochs(out)
    if start_epoch:
        model = keras.models.load_model(last_path)
        trim_log(log_path, start_epoch)
        print(f"resuming from {last_path} after epoch {start_epoch}")
    else:
        if init_from:
            model = keras.models.load_model(init_from, compile=False)
        else:
            model = build_moodnet(**(model_kwargs or {}))
        compile_model(model, steps_per_epoch, epochs, peak_learning_rate, warmup_epochs)
        log_path.unlink(missing_ok=True)
    _write_run_info(
        out, data_dir, epochs, seed, model, model_kwargs, train_set.class_counts(), weights
    )
    _update_run_info(out, workers=workers, **_machine())
    if init_from:
        hyperparameters = _load_run_info(out)["hyperparameters"]
        hyperparameters.update(peak_learning_rate=peak_learning_rate, warmup_epochs=warmup_epochs)
        _update_run_info(out, init_from=str(init_from), hyperparameters=hyperparameters)

    callbacks = [EpochTimer(), keras.callbacks.CSVLogger(str(log_path), append=True)]
    spans = [
        (first, min(first + EPOCHS_PER_FIT, epochs))
        for first in range(start_epoch, epochs, EPOCHS_PER_FIT)
    ]
    started = time.monotonic()
    earlier_sittings = _load_run_info(out)["wall_seconds"]
    with EpochLoader(epochs_source, workers) as loader:
        # The next span is augmented while this one trains.
        upcoming = loader.span(*spans[0]) if spans else []
        for index, (first, stop) in enumerate(spans):
            images, labels, sample_weights = laid_end_to_end(upcoming)
            if index + 1 < len(spans):
                upcoming = loader.span(*spans[index + 1])
            if verbose:  # Keras counts epochs to the end of this span, not of the run
                print(f"epochs {first + 1}-{stop} of {epochs}")
            model.fit(
                images,
                labels,
                sample_weight=sample_weights,
                batch_size=epochs_source.batch_size,
                steps_per_epoch=steps_per_epoch,
                shuffle=False,  # the epochs are already shuffled, reproducibly
                validation_data=validation,
                validation_batch_size=256,
                initial_epoch=first,
                epochs=stop,
                callbacks=callbacks,
                verbose=verbose,
            )
            model.save(last_path)
            # Recorded at every checkpoint, so a sitting that is killed keeps its wall time.
            sitting = round(time.monotonic() - started, 1)
            _update_run_info(out, checkpoint_epochs=stop, wall_seconds=[*earlier_sittings, sitting])
    model.save(out / "model.keras")
    plot_curves(log_path, out / "curves.png")
    return model


def _write_run_info(out, data_dir, epochs, seed, model, model_kwargs, counts, weights) -> None:
    info_path = out / "run.json"
    info = json.loads(info_path.read_text()) if info_path.exists() else {"wall_seconds": []}
    info.update(
        data=str(data_dir),
        epochs=epochs,
        seed=seed,
        architecture=model_kwargs or info.get("architecture", {}),
        params=model.count_params(),
        forward_mflops=round(forward_flops(model) / 1e6, 1),
        train_counts=dict(zip(LABELS, counts.tolist(), strict=True)),
        class_weights=dict(zip(LABELS, np.round(weights, 3).tolist(), strict=True)),
        hyperparameters=dict(
            batch_size=BATCH_SIZE,
            peak_learning_rate=PEAK_LEARNING_RATE,
            warmup_epochs=WARMUP_EPOCHS,
            momentum=MOMENTUM,
            weight_decay=WEIGHT_DECAY,
            label_smoothing=LABEL_SMOOTHING,
            class_weight_power=CLASS_WEIGHT_POWER,
            augment=AugmentConfig().__dict__,
        ),
    )
    info_path.write_text(json.dumps(info, indent=2))


def _machine() -> dict:
    """Which backend and device train this run, so its recipe can be rerun as it ran."""
    backend = keras.backend.backend()
    if backend != "jax":
        return {"backend": backend, "device": "CPU"}
    import jax

    return {"backend": backend, "device": jax.devices()[0].device_kind}


def _load_run_info(out: Path) -> dict:
    """The run's run.json as a dict."""
    return json.loads((out / "run.json").read_text())


def _update_run_info(out: Path, **fields) -> None:
    """Set these top-level fields of the run's run.json, keeping the rest."""
    info = _load_run_info(out)
    info.update(fields)
    (out / "run.json").write_text(json.dumps(info, indent=2))


def plot_curves(log_path: Path, png_path: Path) -> None:
    """Loss and accuracy per epoch, train against val, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with log_path.open() as f:
        rows = list(csv.DictReader(f))
    epochs = [int(r["epoch"]) + 1 for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key in zip(axes, ("loss", "accuracy"), strict=True):
        ax.plot(epochs, [float(r[key]) for r in rows], label="train (augmented)")
        ax.plot(epochs, [float(r[f"val_{key}"]) for r in rows], label="val (PublicTest)")
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(png_path, dpi=100)
    plt.close(fig)
