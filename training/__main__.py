"""`python -m training train|evaluate|export`."""

from training.cli import main

raise SystemExit(main())
