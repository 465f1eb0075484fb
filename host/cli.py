"""The `moodtune` command (also `python -m host`).

Chrome starts the host as `python -m host chrome-extension://<id>/` (plus a window handle on
Windows); that form, or no arguments at all, runs the native-messaging host. Everything else
is a subcommand; each lives in the module that owns its concern and registers itself here.
"""

from __future__ import annotations

import argparse
import sys


def _subcommand_modules():
    from host.commands import bench, demo, doctor, install, recommend

    return (demo, bench, recommend, install, doctor)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0].startswith("chrome-extension://") or argv[0] == "native":
        from host.transports.native import serve

        return serve()
    parser = argparse.ArgumentParser(prog="moodtune", description=__doc__.splitlines()[0])
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    native = subcommands.add_parser("native", help="run the native-messaging host on stdio")
    native.set_defaults(run=None)
    for module in _subcommand_modules():
        module.register(subcommands)
    args = parser.parse_args(argv)
    return args.run(args)
