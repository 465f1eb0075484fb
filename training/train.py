"""Train the emotion model on FER-2013, or distil a student from a teacher (exported or trained).

    python -m training train --data ../shared/datasets/fer2013 --out runs/moodnet
    python -m training distill --data ../shared/datasets/fer2013 --out runs/student --teacher model

Writes into --out: `run.json` (the recipe and the run's bookkeeping), `last.keras` (after every
few epochs; a rerun of the same command resumes from it), `log.csv` (loss, accuracy and seconds
per epoch, train, held-out slice and val), `model.keras` (the final weights, for export and
teaching) and `curves.png`.
The same code trains on Keras's JAX or torch backend (`KERAS_BACKEND=jax`), which is how it runs
on a GPU machine without TensorFlow.
The final epoch's weights are shipped; `val` is only watched, never used to pick an epoch or a
recipe (that is the held-out slice of train's job), so its figure stays an honest estimate.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from training.architectures import build_moodnet, forward_flops, load_network
from training.augment import EpochLoader, TrainingEpochs, balanced_weights, laid_end_to_end
from training.data import LABELS, Dataset, load, split_holdout
from training.distill import CachedTeacher, DistillationLoss, label_accuracy, load_teacher
from training.recipe import Recipe

# Each `fit` call ends by tearing down a tf.data iterator, which stalls ~40 s on this machine;
# so one call trains several epochs, laid end to end in one array, and checkpoints once.
EPOCHS_PER_FIT = 8
WORKERS = 1  # augmenting processes: one keeps up with this CPU; the H200 run used 12
WATCH_BATCH = 256


class RunError(ValueError):
    """A run folder cannot be resumed as asked; the message says why and what to do."""


@dataclass
class Faces:
    train: Dataset
    holdout: Dataset | None  # a slice of train the run never trains on, for selection
    val: Dataset | None  # for reporting only; a GPU sitting is sent train alone


def load_faces(data_dir: str | Path, recipe: Recipe) -> Faces:
    """`data_dir/train` (less the recipe's held-out slice) and `data_dir/val` if there is one."""
    train_set = load(Path(data_dir) / "train")
    val_dir = Path(data_dir) / "val"
    val_set = load(val_dir) if val_dir.exists() else None
    if not recipe.holdout_fraction:
        return Faces(train_set, None, val_set)
    kept, held = split_holdout(train_set, recipe.holdout_fraction, recipe.seed)
    return Faces(kept, held, val_set)


def training_epochs(
    faces: Faces, recipe: Recipe, teacher: CachedTeacher | None = None
) -> TrainingEpochs:
    """The data feed: augmented epochs of the recipe's batch size, with `teacher`'s readings
    taken on the augmenting worker (`train` passes only a teacher that reads there).
    """
    return TrainingEpochs(
        faces.train.images,
        faces.train.labels,
        len(LABELS),
        class_weights(faces.train, recipe),
        recipe.augment,
        recipe.seed,
        recipe.batch_size,
        teacher,
        recipe.mixup_alpha,
    )


def run_teacher(recipe: Recipe, out: Path) -> CachedTeacher | None:
    """The recipe's teacher, caching its readings in the run folder; None when not distilling."""
    if recipe.distillation is None:
        return None
    return load_teacher(recipe.distillation.teacher, out / "teacher")


def class_weights(train_set: Dataset, recipe: Recipe) -> np.ndarray:
    return balanced_weights(train_set.class_counts(), recipe.class_weight_power)


def make_optimizer(recipe: Recipe, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """SGD with Nesterov momentum, linear warm-up to the peak rate, then cosine decay to zero."""
    warmup = recipe.warmup_epochs * steps_per_epoch
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0,
        warmup_target=recipe.peak_learning_rate,
        warmup_steps=warmup,
        decay_steps=max(1, recipe.epochs * steps_per_epoch - warmup),
    )
    optimizer = keras.optimizers.SGD(
        schedule, momentum=recipe.momentum, nesterov=True, weight_decay=recipe.weight_decay
    )
    optimizer.exclude_from_weight_decay(var_names=["gamma", "beta", "bias"])
    return optimizer


def compile_model(model: keras.Model, recipe: Recipe, steps_per_epoch: int) -> None:
    """The recipe's optimiser and loss: the labels' cross-entropy, or distillation's."""
    loss: keras.losses.Loss
    if recipe.distillation is None:
        loss = keras.losses.CategoricalCrossentropy(
            from_logits=True, label_smoothing=recipe.label_smoothing
        )
        accuracy: Any = keras.metrics.CategoricalAccuracy(name="accuracy")
    else:
        loss = DistillationLoss(
            recipe.distillation.temperature,
            recipe.distillation.weight,
            recipe.label_smoothing,
        )
        accuracy = keras.metrics.MeanMetricWrapper(label_accuracy, name="accuracy")
    model.compile(
        optimizer=make_optimizer(recipe, steps_per_epoch),
        loss=loss,
        metrics=[accuracy],
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
    """Adds each epoch's wall seconds to its logs (so to log.csv), watching included."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.started = time.monotonic()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["seconds"] = round(time.monotonic() - self.started, 2)


class Watch(keras.callbacks.Callback):
    """After each epoch, accuracy and plain cross-entropy on named face sets, into the logs.

    Done here rather than by `fit`'s validation because a distilling run's loss needs the
    teacher's readings, which only the training views have.
    """

    def __init__(self, sets: dict[str, Dataset]) -> None:
        super().__init__()
        self.sets = {
            name: (faces.images[..., None].astype(np.float32), faces.labels)
            for name, faces in sets.items()
        }

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        for name, (images, labels) in self.sets.items():
            logits = self.model.predict(images, batch_size=WATCH_BATCH, verbose=0)
            log_p = logits - _logsumexp(logits)
            if logs is not None:
                logs[f"{name}_loss"] = float(-log_p[np.arange(len(labels)), labels].mean())
                logs[f"{name}_accuracy"] = float((logits.argmax(1) == labels).mean())


def _logsumexp(logits: np.ndarray) -> np.ndarray:
    top = logits.max(axis=1, keepdims=True)
    return top + np.log(np.exp(logits - top).sum(axis=1, keepdims=True))


def train(
    data_dir: str,
    out_dir: str,
    recipe: Recipe | None = None,
    verbose: int = 1,
    workers: int = WORKERS,
) -> keras.Model:
    """Train (or resume) a model on `data_dir/train` by `recipe`, watching val; returns it."""
    recipe = recipe or Recipe()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(recipe.seed)

    faces = load_faces(data_dir, recipe)
    teacher = run_teacher(recipe, out)
    on_worker = teacher is not None and teacher.reads_on_worker
    epochs_source = training_epochs(faces, recipe, teacher if on_worker else None)
    model, start_epoch = model_to_train(out, recipe, epochs_source.steps_per_epoch)
    record_run(out, data_dir, recipe, faces, model, workers)

    watched = {"holdout": faces.holdout, "val": faces.val}
    callbacks = [
        EpochTimer(),
        Watch({name: s for name, s in watched.items() if s is not None}),
        keras.callbacks.CSVLogger(str(out / "log.csv"), append=True),
    ]
    fit_in_spans(
        model, epochs_source, start_epoch, recipe.epochs, callbacks, out, workers, verbose,
        None if on_worker else teacher,
    )  # fmt: skip
    save_weights_only(model, out / "model.keras")
    plot_curves(out / "log.csv", out / "curves.png")
    return model


def model_to_train(out: Path, recipe: Recipe, steps_per_epoch: int) -> tuple[keras.Model, int]:
    """The run's checkpoint and the epochs it holds, or a new compiled model and 0."""
    start_epoch = checkpointed_epochs(out)
    if start_epoch:
        recorded = Recipe.from_dict(_load_run_info(out)["recipe"])
        changed = recorded.differences(recipe)
        if changed:
            raise RunError(
                f"{out} holds a run with a different recipe ({', '.join(changed)} changed); "
                "rerun it with its recorded flags (run.json) to resume, or pass a new --out"
            )
        trim_log(out / "log.csv", start_epoch)
        print(f"resuming from {out / 'last.keras'} after epoch {start_epoch}")
        return keras.models.load_model(out / "last.keras"), start_epoch
    if recipe.init_from:
        model = load_network(recipe.init_from)
    else:
        model = build_moodnet(**recipe.architecture)
    compile_model(model, recipe, steps_per_epoch)
    (out / "log.csv").unlink(missing_ok=True)
    return model, 0


def record_run(
    out: Path, data_dir: str, recipe: Recipe, faces: Faces, model: keras.Model, workers: int
) -> None:
    """Write the recipe and what follows from it into run.json (keeping earlier sittings')."""
    info_path = out / "run.json"
    info = json.loads(info_path.read_text()) if info_path.exists() else {"wall_seconds": []}
    info.update(
        data=str(data_dir),
        recipe=recipe.to_dict(),
        params=model.count_params(),
        forward_mflops=round(forward_flops(model) / 1e6, 1),
        train_counts=_by_label(faces.train.class_counts()),
        holdout_counts=_by_label(faces.holdout.class_counts()) if faces.holdout else None,
        class_weights=_by_label(np.round(class_weights(faces.train, recipe), 3)),
        workers=workers,
        **_machine(),
    )
    info_path.write_text(json.dumps(info, indent=2))


def fit_in_spans(
    model: keras.Model,
    epochs_source: TrainingEpochs,
    start_epoch: int,
    epochs: int,
    callbacks: list[keras.callbacks.Callback],
    out: Path,
    workers: int,
    verbose: int,
    teacher: CachedTeacher | None = None,
) -> None:
    """Train epochs start_epoch..epochs-1, EPOCHS_PER_FIT a `fit` call, checkpointing after each.

    A `teacher` given here reads each span's views in this process before they train.
    """
    spans = [
        (first, min(first + EPOCHS_PER_FIT, epochs))
        for first in range(start_epoch, epochs, EPOCHS_PER_FIT)
    ]
    started = time.monotonic()
    earlier_sittings = _load_run_info(out)["wall_seconds"]
    with EpochLoader(epochs_source, workers) as loader:
        # The next span is augmented (and read by the teacher) while this one trains.
        upcoming = loader.span(*spans[0]) if spans else []
        for index, (first, stop) in enumerate(spans):
            images, targets, sample_weights = laid_end_to_end(upcoming)
            if index + 1 < len(spans):
                upcoming = loader.span(*spans[index + 1])
            if teacher is not None:
                epoch_length = epochs_source.steps_per_epoch * epochs_source.batch_size
                targets = with_readings(teacher, first, epoch_length, images, targets)
            if verbose:  # Keras counts epochs to the end of this span, not of the run
                print(f"epochs {first + 1}-{stop} of {epochs}", flush=True)
            model.fit(
                images,
                targets,
                sample_weight=sample_weights,
                batch_size=epochs_source.batch_size,
                steps_per_epoch=epochs_source.steps_per_epoch,
                shuffle=False,  # the epochs are already shuffled, reproducibly
                initial_epoch=first,
                epochs=stop,
                callbacks=callbacks,
                verbose=verbose,
            )
            save_whole(model, out / "last.keras")
            # Recorded at every checkpoint, so a sitting that is killed keeps its wall time.
            sitting = round(time.monotonic() - started, 1)
            _update_run_info(out, checkpoint_epochs=stop, wall_seconds=[*earlier_sittings, sitting])


def with_readings(
    teacher: CachedTeacher, first: int, epoch_length: int, images: np.ndarray, targets: np.ndarray
) -> np.ndarray:
    """A span's targets (epochs `first`, `first` + 1, … laid end to end, `epoch_length` rows
    each) with the teacher's readings of each epoch's views beside them.
    """
    readings = [
        teacher.readings(first + index, images[start : start + epoch_length])
        for index, start in enumerate(range(0, len(images), epoch_length))
    ]
    return np.concatenate([targets, np.concatenate(readings)], axis=1)


def save_weights_only(model: keras.Model, path: Path) -> None:
    """The trained model without its optimiser's state: half the file, all that export and a
    teacher need (a run resumes from `last.keras`, which keeps it).
    """
    bare = keras.Model.from_config(model.get_config())  # clone_model would keep the compile
    bare.set_weights(model.get_weights())
    save_whole(bare, path)


def save_whole(model: keras.Model, path: Path) -> None:
    """Save to `path` so that a run killed while saving keeps the file it had before."""
    partial = path.with_name(f"{path.stem}.partial.keras")
    model.save(partial)
    partial.replace(path)


def _by_label(values: np.ndarray) -> dict[str, Any]:
    return dict(zip(LABELS, values.tolist(), strict=True))


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


def _update_run_info(out: Path, **fields: Any) -> None:
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
    watched = {"holdout": "held-out slice of train", "val": "val (PublicTest)"}
    for ax, key in zip(axes, ("loss", "accuracy"), strict=True):
        ax.plot(epochs, [float(r[key]) for r in rows], label="train (augmented)")
        for name, label in watched.items():
            # A run that watches no val set gets NA columns for it from Keras's CSVLogger.
            if rows[0].get(f"{name}_{key}", "NA") != "NA":
                ax.plot(epochs, [float(r[f"{name}_{key}"]) for r in rows], label=label)
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(png_path, dpi=100)
    plt.close(fig)
