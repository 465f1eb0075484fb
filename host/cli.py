"""moodtune: music that follows your face.

Start with `moodtune demo` (no browser needed), or `moodtune install` to set up the browser
extension; `moodtune doctor` checks the set-up. `python -m host` is the same command.

The browser starts the extension's helper itself, as `moodtune chrome-extension://<id>/` (plus a
window handle on Windows); `moodtune native` does the same by hand. Without one of those it
never starts, so a bare `moodtune` only prints this help.
"""

from __future__ import annotations

import argparse
import sys


def _subcommand_modules():
    from host.commands import bench, demo, doctor, install, recommend

    return (demo, bench, recommend, install, doctor)


def runs_native_host(argv: list[str]) -> bool:
    """Whether these arguments are the browser starting the helper (or `native`)."""
    return bool(argv) and (argv[0].startswith("chrome-extension://") or argv[0] == "native")


def parser() -> argparse.ArgumentParser:
    """The `moodtune` command line, every subcommand registered."""
    summary, _, details = __doc__.partition("\n\n")
    command = argparse.ArgumentParser(
        prog="moodtune",
        description=summary,
        epilog=details,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subcommands = command.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _subcommand_modules():
        module.register(subcommands)
    subcommands.add_parser(
        "native", help="run the browser extension's helper on stdin/stdout, as the browser does"
    )
    return command


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if runs_native_host(argv):
        from host.transports.native import serve

        return serve()
    command = parser()
    if not argv:
        command.print_help()
        return 0
    args = command.parse_args(argv)
    return args.run(args)
