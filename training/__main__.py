"""`python -m training train|distill|evaluate|export|…` (see training/cli.py)."""

from training.cli import main

# Guarded: training's augmenting worker processes are spawned, and a spawned process imports
# the main module.
if __name__ == "__main__":
    raise SystemExit(main())
