"""Command line for the training pipeline and the measurements that set the host's constants."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from training.recipe import Recipe

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train (or resume) the emotion model")
    add_recipe_flags(train)
    distill = commands.add_parser(
        "distill",
        help="train (or resume) a student on a teacher's softened outputs and the labels",
        description="`train` with the student recipe's defaults (training/recipe.py STUDENT): "
        "G's shape and schedule, the studio augmentations, 5%% of train held out, the shipped "
        "model as teacher",
    )
    add_recipe_flags(distill)

    evaluate = commands.add_parser("evaluate", help="measure the shipped .tflite the host's way")
    evaluate.add_argument("--data", required=True, help="folder of <label>/<image> files")
    evaluate.add_argument("--model-dir", default=None, help="folder with emotion.tflite")
    evaluate.add_argument("--detect-faces", action="store_true", help="images are full photos")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument("--plot", default=None, help="write the confusion matrix PNG here")
    evaluate.add_argument(
        "--per-person",
        action="store_true",
        help="also score through each person's calibration (person: file name before '__')",
    )

    export = commands.add_parser("export", help="write emotion.tflite and model.json")
    export.add_argument(
        "--keras", required=True, nargs="+", help="trained model(s) (.keras); several are averaged"
    )
    export.add_argument("--out", default="model", help="folder to write into")
    export.add_argument("--int8", action="store_true", help="quantise to int8")
    export.add_argument("--no-flip", action="store_true", help="skip mirror averaging")
    export.add_argument("--calibration", default=None, help="image folder for int8 calibration")
    export.add_argument("--val", default=None, help="image folder to measure accuracy on")
    export.add_argument(
        "--run", nargs="*", default=(), help="each model's training run folder (recipe, curves)"
    )
    export.add_argument(
        "--against",
        default=None,
        help="a model folder (the shipped one) to measure side by side: latency in interleaved "
        "sittings, and val accuracy with --val",
    )

    pack = commands.add_parser(
        "pack",
        help="train's faces in the smallest lossless form, for a GPU sitting (gpu_sitting.sh)",
        description="Writes OUT/train (train less the held-out slice) as one tiled PNG and its "
        "labels, and OUT/holdout (the slice) as an image folder, which stays here with val to "
        "measure what the sitting sends back",
    )
    pack.add_argument("--data", required=True, help="folder holding train/")
    pack.add_argument("--out", required=True, help="folder to write into")
    pack.add_argument(
        "--holdout-fraction", type=float, default=None, help="default: the student recipe's"
    )
    pack.add_argument(
        "--seed", type=int, default=None, help="picks the slice; default: the student recipe's"
    )

    recover = commands.add_parser(
        "recover",
        help="an exported model's networks as trainable Keras models (member_N.keras)",
        description="Reads each network's int8 weights out of MODEL/emotion.tflite and writes it "
        "as a build_moodnet model, its batch norms' statistics measured on faces from --data",
    )
    recover.add_argument("--model-dir", default="model", help="folder with emotion.tflite")
    recover.add_argument(
        "--data", required=True, help="faces for the batch norms' statistics: train's folder"
    )
    recover.add_argument("--out", required=True, help="folder to write member_N.keras into")
    recover.add_argument("--val", default=None, help="image folder to measure each network on")

    soup = commands.add_parser(
        "soup",
        help="one network holding the average of several networks' weights",
        description="Averages the weights of networks of one shape fine-tuned from one start "
        "and measures the average's batch norms on faces from --data (training/soup.py)",
    )
    soup.add_argument("--keras", nargs="+", required=True, help="the networks (.keras) to average")
    soup.add_argument(
        "--data",
        required=True,
        help="faces for the batch norms' statistics, augmented as the student recipe augments "
        "them: train's folder",
    )
    soup.add_argument("--out", required=True, help="the soup's file (.keras)")

    video = commands.add_parser("make-video", help="a camera-like video of real faces")
    video.add_argument("--data", required=True, help="folder of <label>/<image> face crops")
    video.add_argument("--out", required=True, help="video file (.mp4); timeline goes to .json")
    video.add_argument("--faces", type=int, default=8)
    video.add_argument("--seconds", type=float, default=3.0, help="how long each face is held")
    video.add_argument("--seed", type=int, default=0)
    video.add_argument("--size", default="640x480", help="frame size, WIDTHxHEIGHT")
    video.add_argument("--fps", type=float, default=10.0, help="frames per second")
    video.add_argument(
        "--codec", default="mp4v", help="four-character code: mp4v, MJPG, I420 (raw, use .avi)"
    )
    video.add_argument(
        "--empty", type=float, default=0.0, help="seconds of empty scene after the first face"
    )

    sample = commands.add_parser(
        "make-sample", help="the demo's sample video: faces the host finds and reads right"
    )
    sample.add_argument("--data", required=True, help="folder of <label>/<image> face crops")
    sample.add_argument("--out", required=True, help="video file (.mp4); timeline goes to .json")
    sample.add_argument("--seed", type=int, default=0)

    calibrate = commands.add_parser("calibrate-mood", help="measure mood tracker settings")
    calibrate.add_argument("--data", required=True, help="folder of <label>/<image> face crops")
    calibrate.add_argument("--model-dir", default=None)
    calibrate.add_argument("--top", type=int, default=10, help="rows to print")
    calibrate.add_argument(
        "--seeds",
        default="0",
        help="comma-separated seeds: each makes one pair of videos, all joined end to end",
    )

    framing = commands.add_parser("haar-framing", help="how Haar boxes frame a dataset's crops")
    framing.add_argument("--data", required=True)
    return parser


# Recipe fields set by a flag of the same name (dashes for underscores), with the flag's type.
# Every field has one, so `command_line` can write any recipe as the command that makes it.
SCALAR_FLAGS: dict[str, type] = {
    "epochs": int,
    "batch_size": int,
    "peak_learning_rate": float,
    "warmup_epochs": int,
    "momentum": float,
    "weight_decay": float,
    "label_smoothing": float,
    "class_weight_power": float,
    "seed": int,
    "holdout_fraction": float,
    "init_from": str,
    "mixup_alpha": float,
}
SHORT_FLAGS = {"peak_learning_rate": "--peak-lr"}  # the name earlier runs' commands used


def flag(name: str) -> str:
    """The command-line flag that sets recipe field `name`."""
    return SHORT_FLAGS.get(name, "--" + name.replace("_", "-"))


def add_recipe_flags(parser: argparse.ArgumentParser) -> None:
    """The flags that make a training recipe, defaulting to the command's base recipe."""
    parser.add_argument("--data", required=True, help="folder holding train/ and val/")
    parser.add_argument("--out", default="runs/moodnet", help="run folder (checkpoints, log)")
    parser.add_argument(
        "--workers", type=int, default=None, help="processes augmenting epochs (default 1)"
    )
    for name, kind in SCALAR_FLAGS.items():
        parser.add_argument(flag(name), type=kind, default=None, dest=name)
    parser.add_argument(
        "--blocks", default=None, help="residual blocks per stage, e.g. 1,1,1,1 (default 1,1,1,0)"
    )
    parser.add_argument(
        "--architecture", default=None, help="build_moodnet's keyword arguments as a JSON object"
    )
    parser.add_argument(
        "--augment",
        default=None,
        help="augmentation: 'fer' (default), 'studio' (adds lighting, blur, JPEG, framing), "
        "or an AugmentConfig as a JSON object",
    )
    parser.add_argument(
        "--teacher",
        default=None,
        help="distil from this folder: an exported model (emotion.tflite) or trained *.keras",
    )
    parser.add_argument("--temperature", type=float, default=None, help="distillation softening")
    parser.add_argument(
        "--kd-weight", type=float, default=None, help="weight of the teacher's term (0..1)"
    )


def recipe_from_args(args: argparse.Namespace) -> Recipe:
    """The command's base recipe with every flag given on the command line applied."""
    from dataclasses import replace

    from training.recipe import AUGMENTS, STUDENT, Distillation, Recipe

    base = STUDENT if args.command == "distill" else Recipe()
    changes: dict[str, Any] = {
        name: getattr(args, name) for name in SCALAR_FLAGS if getattr(args, name) is not None
    }
    if args.architecture:
        changes["architecture"] = Recipe.from_dict(
            {"augment": {}, "architecture": json.loads(args.architecture)}
        ).architecture
    if args.blocks:
        changes["architecture"] = {
            **changes.get("architecture", base.architecture),
            "blocks": tuple(int(n) for n in args.blocks.split(",")),
        }
    if args.augment:
        changes["augment"] = (
            AUGMENTS[args.augment]
            if args.augment in AUGMENTS
            else Recipe.from_dict({"augment": json.loads(args.augment)}).augment
        )
    distillation = base.distillation
    if args.teacher:
        distillation = replace(distillation or Distillation(args.teacher), teacher=args.teacher)
    if distillation and args.temperature is not None:
        distillation = replace(distillation, temperature=args.temperature)
    if distillation and args.kd_weight is not None:
        distillation = replace(distillation, weight=args.kd_weight)
    if (args.temperature is not None or args.kd_weight is not None) and not distillation:
        raise UsageError("--temperature and --kd-weight need --teacher DIR")
    return replace(base, distillation=distillation, **changes)


def command_line(recipe: Recipe, data: str, out: str, workers: int = 1) -> str:
    """The `python -m training train` command whose flags make exactly `recipe`."""
    from dataclasses import asdict

    from training.recipe import AUGMENTS, Recipe

    default = Recipe()
    words = ["python -m training train", f"--data {data}", f"--out {out}"]
    for name in SCALAR_FLAGS:
        value = getattr(recipe, name)
        if value != getattr(default, name):
            words.append(f"{flag(name)} {value}")
    if recipe.architecture != default.architecture:
        if set(recipe.architecture) == {"blocks"}:
            words.append("--blocks " + ",".join(str(n) for n in recipe.architecture["blocks"]))
        else:
            words.append(f"--architecture '{json.dumps(recipe.architecture)}'")
    if recipe.augment != default.augment:
        names = [name for name, augment in AUGMENTS.items() if augment == recipe.augment]
        words.append(
            f"--augment {names[0]}"
            if names
            else f"--augment '{json.dumps(asdict(recipe.augment))}'"
        )
    if recipe.distillation:
        d = recipe.distillation
        words += [f"--teacher {d.teacher}", f"--temperature {d.temperature}"]
        words.append(f"--kd-weight {d.weight}")
    if workers > 1:
        words.append(f"--workers {workers}")
    return " ".join(words)


class UsageError(ValueError):
    """Flags that do not go together; the message says which."""


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from training.data import DatasetError
    from training.distill import TeacherError
    from training.recipe import RecipeError
    from training.recover import RecoveryError
    from training.soup import SoupError
    from training.train import RunError

    errors = (
        DatasetError, TeacherError, RunError, RecipeError, RecoveryError, SoupError, UsageError
    )  # fmt: skip
    try:
        return COMMANDS[args.command](args)
    except errors as exc:
        print(f"python -m training {args.command}: {exc}", file=sys.stderr)
        return 2


def run_train(args: argparse.Namespace) -> int:
    from training import train

    train.train(args.data, args.out, recipe_from_args(args), workers=args.workers or train.WORKERS)
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from host.vision.emotion import MODEL_DIR, ModelError
    from training.evaluate import evaluate, evaluate_per_person, plot_confusion

    model_dir = args.model_dir or MODEL_DIR
    try:
        if args.per_person:
            report = evaluate_per_person(args.data, model_dir, args.detect_faces)
        else:
            report = evaluate(args.data, model_dir, args.detect_faces).report()
    except ModelError as exc:
        print(f"python -m training evaluate: {exc}", file=sys.stderr)
        return 2
    if args.plot:
        plot_confusion(report, args.plot, f"{args.data} (n={report['n']})")
    if args.json:
        print(json.dumps(report))
    else:
        print(
            f"n={report['n']} accuracy={report['accuracy']:.4f} macro_f1={report['macro_f1']:.4f}"
        )
        print("recall: " + ", ".join(f"{k} {v:.3f}" for k, v in report["recall"].items()))
        print(f"faces missed: {report['faces_missed']}")
        if args.per_person:
            calibrated = report["calibrated"]
            print(
                f"calibrated ({report['people_calibrated']} of {report['people']} people): "
                f"accuracy={calibrated['accuracy']:.4f} macro_f1={calibrated['macro_f1']:.4f}"
            )
    return 0


def run_export(args: argparse.Namespace) -> int:
    from training.data import load
    from training.export import export, record_measurements

    if args.int8 and not args.calibration:
        print("python -m training export: --int8 needs --calibration DIR", file=sys.stderr)
        return 2
    if args.against and Path(args.against).resolve() == Path(args.out).resolve():
        print(
            "python -m training export: --against must be another folder than --out "
            "(the export would overwrite the model it is compared with)",
            file=sys.stderr,
        )
        return 2
    calibration = load(args.calibration) if args.int8 else None
    path = export(args.keras, args.out, not args.no_flip, args.int8, calibration)
    metrics = record_measurements(args.out, args.val, args.run, args.against)["metrics"]
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB): {json.dumps(metrics)}")
    return 0


def run_pack(args: argparse.Namespace) -> int:
    from training.data import load, pack, save_image_folder, split_holdout
    from training.recipe import STUDENT

    fraction = STUDENT.holdout_fraction if args.holdout_fraction is None else args.holdout_fraction
    seed = STUDENT.seed if args.seed is None else args.seed
    out = Path(args.out)
    kept, held = split_holdout(load(Path(args.data) / "train"), fraction, seed)
    sizes = {
        "train": pack(kept, out / "train"),
        "holdout": save_image_folder(held, out / "holdout"),
    }
    record = {
        "data": str(args.data),
        "holdout_fraction": fraction,
        "seed": seed,
        "faces": {"train": len(kept), "holdout": len(held)},
        "bytes": sizes,
    }
    (out / "pack.json").write_text(json.dumps(record, indent=2))
    print(
        f"wrote {out}: train {len(kept)} faces ({sizes['train'] / 1e6:.1f} MB), "
        f"held-out slice {len(held)} faces ({sizes['holdout'] / 1e6:.1f} MB)"
    )
    return 0


def run_recover(args: argparse.Namespace) -> int:
    import numpy as np

    from training.architectures import network_accuracy
    from training.data import load
    from training.recover import STATISTICS_FACES, recover

    source = load(args.data)
    rows = np.random.default_rng(0).permutation(len(source))[:STATISTICS_FACES]
    faces = source.images[rows].astype(np.float32)[..., None]
    val = load(args.val) if args.val else None
    for path in recover(args.model_dir, faces, args.out):
        measured = f": val accuracy {network_accuracy(path, val):.4f}" if val is not None else ""
        print(f"wrote {path}{measured}")
    return 0


def run_soup(args: argparse.Namespace) -> int:
    from training.architectures import network_accuracy
    from training.data import load, split_holdout
    from training.recipe import STUDENT
    from training.soup import make_soup, statistics_views

    # The student recipe's held-out slice: the soup's statistics never see it, so it can show
    # whether the soup reads better than its networks without touching val.
    kept, held = split_holdout(load(args.data), STUDENT.holdout_fraction, STUDENT.seed)
    path = make_soup(args.keras, statistics_views(kept, STUDENT.augment), args.out)
    print(f"wrote {path}: the average of {len(args.keras)} networks")
    print(f"accuracy on the held-out slice of train ({len(held)} faces):")
    for network in [*args.keras, path]:
        print(f"  {network_accuracy(network, held):.4f} {network}")
    return 0


def run_make_video(args: argparse.Namespace) -> int:
    from training.videos import make_video

    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        raise SystemExit(f"--size must be WIDTHxHEIGHT, like 1280x720, not {args.size!r}") from None
    timeline = make_video(
        args.data, args.out, args.faces, args.seconds, args.seed,
        size=(width, height), fps=args.fps, codec=args.codec, empty_s=args.empty,
    )  # fmt: skip
    print(f"wrote {args.out}: " + ", ".join(s.emotion for s in timeline))
    return 0


def run_make_sample(args: argparse.Namespace) -> int:
    from training.sample import make_sample

    for segment in make_sample(args.data, args.out, args.seed):
        print(
            f"{segment['emotion']:<9} {segment['source']}: face found in "
            f"{segment['face_found']:.0%} of frames, read as {segment['emotion']} "
            f"{segment['label_share']:.0%}"
        )
    print(f"wrote {args.out} and {args.out}.json")
    return 0


def run_haar_framing(args: argparse.Namespace) -> int:
    from training.framing import haar_framing

    print(json.dumps(haar_framing(args.data)))
    return 0


def run_calibrate_mood(args: argparse.Namespace) -> int:
    from host.vision.emotion import MODEL_DIR
    from training.mood_calibration import calibrate

    try:
        seeds = tuple(int(seed) for seed in args.seeds.split(","))
    except ValueError:
        raise UsageError(
            f"--seeds takes whole numbers separated by commas, not {args.seeds!r}"
        ) from None
    rows = calibrate(args.data, args.model_dir or MODEL_DIR, seeds)
    for row in rows[: args.top]:
        print(json.dumps(row))
    if not any(row["host"] for row in rows[: args.top]):
        print(json.dumps(next(row for row in rows if row["host"])))
    return 0


COMMANDS = {
    "train": run_train,
    "distill": run_train,
    "evaluate": run_evaluate,
    "export": run_export,
    "pack": run_pack,
    "recover": run_recover,
    "soup": run_soup,
    "make-video": run_make_video,
    "make-sample": run_make_sample,
    "haar-framing": run_haar_framing,
    "calibrate-mood": run_calibrate_mood,
}

if __name__ == "__main__":
    sys.exit(main())
