"""`moodtune recommend`: print the tracks moodtune would play for an emotion and language.

    moodtune recommend --emotion sad --language hi [--mode lift] [--count 10] [--json]

Tracks go to stdout, one per line (or as JSON). When no track can be had, one line on stderr
says why and the exit status is non-zero: 2 for a bad argument such as an unknown language,
1 when YouTube Music is unreachable with nothing cached. The command never waits past
`DEADLINE_S`, whatever the network does.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import asdict
from typing import Any, TypeVar

from host.music.catalog import languages
from host.music.errors import MusicUnavailable, UnknownLanguage
from host.music.models import Track
from host.music.recommender import Recommender
from host.music.store import Store
from host.terminal import printable
from host.vocabulary import EMOTIONS, MODES

#: Seconds the whole command may take; the client's own timeouts normally end it sooner.
DEADLINE_S = 9.0
WATCH_URL = "https://music.youtube.com/watch?v="

T = TypeVar("T")


def register(subcommands: Any) -> None:
    """Add `recommend` to the `moodtune` command's subparsers."""
    parser = subcommands.add_parser(
        "recommend",
        help="print the tracks moodtune would play for an emotion and language",
        description=__doc__.splitlines()[0],
    )
    _add_arguments(parser)
    parser.set_defaults(run=run)


def recommend_command(argv: list[str]) -> int:
    """Parse `argv` (the arguments after `recommend`), print tracks, return the exit status."""
    parser = argparse.ArgumentParser(prog="moodtune recommend", description=__doc__.splitlines()[0])
    _add_arguments(parser)
    return run(parser.parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Carry out `moodtune recommend` with parsed arguments; return the exit status."""
    started = time.monotonic()
    store = Store()
    recommender = Recommender(store)
    try:
        tracks = _within(
            DEADLINE_S,
            lambda: recommender.recommend(args.emotion, args.language, args.mode, args.count),
        )
    except UnknownLanguage as exc:
        return _fail(str(exc), 2)
    except MusicUnavailable as exc:
        return _fail(f"{exc}; search by hand: {exc.fallback_url}", 1)
    except futures.TimeoutError:
        return _fail(f"YouTube Music did not answer within {DEADLINE_S:.0f} s", 1)
    if not tracks:
        return _fail("every track found was played within the last hours; try later", 1)
    if args.json:
        # JSON escapes C0 controls itself; C1 controls and bidi marks it would print raw.
        print(printable(json.dumps([asdict(t) for t in tracks], ensure_ascii=False, indent=2)))
    else:
        print("\n".join(_describe(number, t) for number, t in enumerate(tracks, 1)))
    sys.stdout.flush()
    try:
        # Bring stale cache entries up to date for next time, within what is left of the deadline.
        _within(max(0.0, DEADLINE_S - (time.monotonic() - started)), recommender.refresh_due)
        store.close()
    except futures.TimeoutError:
        pass  # the daemon thread still holds the store; exiting ends both
    return 0


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    codes = ", ".join(f"{code} ({name})" for code, name in languages().items())
    parser.add_argument("--emotion", required=True, choices=EMOTIONS)
    parser.add_argument("--language", required=True, help=f"a code or English name: {codes}")
    parser.add_argument("--mode", default="match", choices=MODES)
    parser.add_argument("--count", type=_positive, default=10, help="tracks to print (10)")
    parser.add_argument("--json", action="store_true", help="print the tracks as JSON")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _describe(number: int, track: Track) -> str:
    artists = ", ".join(track.artists) or "unknown artist"
    length = ""
    if track.duration_s is not None:
        length = f" ({track.duration_s // 60}:{track.duration_s % 60:02d})"
    line = f"{number:2d}. {track.title} — {artists}{length}  {WATCH_URL}{track.video_id}"
    return f"{printable(line)}\n    {printable(track.reason)}"


def _fail(reason: str, status: int) -> int:
    print(f"moodtune recommend: {printable(reason)}", file=sys.stderr)
    return status


def _within(seconds: float, work: Callable[[], T]) -> T:
    """Run `work` on a daemon thread; return its result, or raise futures.TimeoutError after
    `seconds`.

    A daemon thread, so a call stuck in DNS or a socket cannot keep the process alive.
    """
    future: futures.Future[T] = futures.Future()

    def target() -> None:
        try:
            future.set_result(work())
        except Exception as exc:
            future.set_exception(exc)

    threading.Thread(target=target, name="moodtune-recommend", daemon=True).start()
    return future.result(timeout=seconds)
