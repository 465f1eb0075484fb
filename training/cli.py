"""Command line for the training pipeline."""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train (or resume) the emotion model")
    train.add_argument("--data", required=True, help="folder holding train/ and val/")
    train.add_argument("--out", default="runs/moodnet", help="run folder (checkpoints, log)")
    train.add_argument("--epochs", type=int, default=None)
    train.add_argument("--seed", type=int, default=None)

    args = parser.parse_args(argv)
    if args.command == "train":
        from training import train as training

        training.train(
            args.data,
            args.out,
            epochs=args.epochs or training.EPOCHS,
            seed=args.seed if args.seed is not None else training.SEED,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
