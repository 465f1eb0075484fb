"""`python -m host`: the native-messaging host, or a `moodtune` subcommand."""

from host.cli import main

raise SystemExit(main())
