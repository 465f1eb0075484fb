"""The `moodtune` subcommands, one module each: demo, bench, recommend, install, doctor."""
