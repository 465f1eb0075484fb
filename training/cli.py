"""Command line for the training pipeline and the measurements that set the host's constants."""

from __future__ import annotations

import argparse
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train (or resume) the emotion model")
    train.add_argument("--data", required=True, help="folder holding train/ and val/")
    train.add_argument("--out", default="runs/moodnet", help="run folder (checkpoints, log)")
    train.add_argument("--epochs", type=int, default=None)
    train.add_argument("--seed", type=int, default=None)
    train.add_argument("--init-from", default=None, help="start from this trained .keras model")
    train.add_argument("--peak-lr", type=float, default=None, help="peak learning rate")
    train.add_argument("--warmup-epochs", type=int, default=None)
    train.add_argument(
        "--workers", type=int, default=None, help="processes augmenting epochs (default 1)"
    )
    train.add_argument(
        "--blocks", default=None, help="residual blocks per stage, e.g. 1,1,1,1 (default 1,1,1,0)"
    )

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

    video = commands.add_parser("make-video", help="a camera-like video of real faces")
    video.add_argument("--data", required=True, help="folder of <label>/<image> face crops")
    video.add_argument("--out", required=True, help="video file (.mp4); timeline goes to .json")
    video.add_argument("--faces", type=int, default=8)
    video.add_argument("--seconds", type=float, default=3.0, help="how long each face is held")
    video.add_argument("--seed", type=int, default=0)

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

    framing = commands.add_parser("haar-framing", help="how Haar boxes frame a dataset's crops")
    framing.add_argument("--data", required=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from training.data import DatasetError

    try:
        return COMMANDS[args.command](args)
    except DatasetError as exc:
        print(f"python -m training {args.command}: {exc}", file=sys.stderr)
        return 2


def parse_blocks(text: str) -> tuple[int, ...]:
    """'1,1,1,1' → (1, 1, 1, 1): residual blocks per stage."""
    return tuple(int(n) for n in text.split(","))


def run_train(args: argparse.Namespace) -> int:
    from training import train

    train.train(
        args.data,
        args.out,
        epochs=args.epochs or train.EPOCHS,
        seed=args.seed if args.seed is not None else train.SEED,
        workers=args.workers or train.WORKERS,
        init_from=args.init_from,
        peak_learning_rate=args.peak_lr or train.PEAK_LEARNING_RATE,
        warmup_epochs=train.WARMUP_EPOCHS if args.warmup_epochs is None else args.warmup_epochs,
        model_kwargs={"blocks": parse_blocks(args.blocks)} if args.blocks else None,
    )
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
    calibration = load(args.calibration) if args.int8 else None
    path = export(args.keras, args.out, not args.no_flip, args.int8, calibration)
    metrics = record_measurements(args.out, args.val, args.run)["metrics"]
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB): {json.dumps(metrics)}")
    return 0


def run_make_video(args: argparse.Namespace) -> int:
    from training.videos import make_video

    timeline = make_video(args.data, args.out, args.faces, args.seconds, args.seed)
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

    rows = calibrate(args.data, args.model_dir or MODEL_DIR)
    for row in rows[: args.top]:
        print(json.dumps(row))
    return 0


COMMANDS = {
    "train": run_train,
    "evaluate": run_evaluate,
    "export": run_export,
    "make-video": run_make_video,
    "make-sample": run_make_sample,
    "haar-framing": run_haar_framing,
    "calibrate-mood": run_calibrate_mood,
}

if __name__ == "__main__":
    sys.exit(main())
