"""Soak benchmark: the real native host for N minutes, with commands every few seconds.

    python -m host.bench_soak [--minutes 10] [--every 3] [--sample 30] [--video PATH]

Starts `python -m host` as the browser does (native messaging on stdio, a fresh data folder),
points its camera at a looping video, and sends a command every `--every` seconds, cycling
through what a listener does all day: start, pause, stop, moods set by hand and handed back,
modes and languages changed, tracks asked for, plays and likes recorded, pings. Every `--sample`
seconds it prints the host's resident memory, open file descriptors and threads (from /proc,
so Linux only), then the change from the first sample to the last, and how long the host took
to exit at end of input. YouTube Music is whatever the environment reaches (HTTPS_PROXY is
honoured); offline, every recommendation fails fast, which is part of the soak too.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from host.paths import PACKAGE_DIR

ORIGIN = "chrome-extension://kmjpddcboijkpgjegdplbclkadhankic/"
SAMPLE_VIDEO = PACKAGE_DIR / "data" / "sample.mp4"


def commands(video: str) -> Iterator[dict[str, object]]:
    """The listener's day, round and round."""
    languages = itertools.cycle(["en", "hi", "ja", "es"])
    modes = itertools.cycle(["match", "lift", "calm"])
    moods = itertools.cycle(["happy", None, "sad", None, "angry", None])
    for number in itertools.count():
        video_id = f"soak{number % 50:07d}"
        day: tuple[dict[str, object], ...] = (
            {"type": "start", "camera": video},
            {"type": "ping", "id": number},
            {"type": "set_mode", "mode": next(modes)},
            {"type": "more_tracks", "count": 10},
            {"type": "played", "video_id": video_id},
            {"type": "feedback", "video_id": video_id, "liked": number % 2 == 0},
            {"type": "override_mood", "emotion": next(moods)},
            {"type": "pause"},
            {"type": "start", "camera": video},
            {"type": "set_language", "language": next(languages)},
            {"type": "override_mood", "emotion": next(moods)},
            {"type": "stop"},
        )
        yield from day


def proc_figures(pid: int) -> tuple[float, int, int]:
    """(resident MB, open file descriptors, threads) of a live process."""
    rss_kb, threads = 0, 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss_kb = int(line.split()[1])
        elif line.startswith("Threads:"):
            threads = int(line.split()[1])
    return rss_kb / 1024, len(os.listdir(f"/proc/{pid}/fd")), threads


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m host.bench_soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--every", type=float, default=3.0, help="seconds between commands")
    parser.add_argument("--sample", type=float, default=30.0, help="seconds between samples")
    parser.add_argument("--video", type=Path, default=SAMPLE_VIDEO)
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        print("bench_soak reads /proc: Linux only", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="moodtune-soak-") as data:
        return _soak(args, Path(data))


def _soak(args: argparse.Namespace, data: Path) -> int:
    env = {**os.environ, "MOODTUNE_DATA_DIR": str(data)}
    host = subprocess.Popen(
        [sys.executable, "-m", "host", ORIGIN],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    assert host.stdin is not None and host.stdout is not None
    counts: dict[str, int] = {}

    def read_events() -> None:
        assert host.stdout is not None
        while header := host.stdout.read(4):
            (length,) = struct.unpack("=I", header)
            event = json.loads(host.stdout.read(length))
            kind = event.get("type", "?")
            if kind == "error":  # which errors matters: music offline is expected here
                kind = f"error:{event.get('code')}"
            counts[kind] = counts.get(kind, 0) + 1

    threading.Thread(target=read_events, daemon=True).start()
    print(f"soak: host pid {host.pid}, {args.minutes:g} min, a command every {args.every:g} s")
    print(f"{'min':>6} {'RSS MB':>8} {'fds':>5} {'threads':>8} {'commands':>9}  events")
    started = time.monotonic()
    end = started + args.minutes * 60
    next_sample = started
    samples: list[tuple[float, float, int, int]] = []
    sent = 0
    script = commands(str(args.video))
    while (now := time.monotonic()) < end and host.poll() is None:
        if now >= next_sample:
            rss, fds, threads = proc_figures(host.pid)
            samples.append(((now - started) / 60, rss, fds, threads))
            shown = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            print(f"{samples[-1][0]:6.1f} {rss:8.1f} {fds:5d} {threads:8d} {sent:9d}  {shown}")
            sys.stdout.flush()
            next_sample += args.sample
        body = json.dumps(next(script)).encode()
        host.stdin.write(struct.pack("=I", len(body)) + body)
        host.stdin.flush()
        sent += 1
        time.sleep(args.every)
    if host.poll() is not None:
        print(f"soak: the host DIED with status {host.returncode} after {sent} commands")
        return 1
    rss, fds, threads = proc_figures(host.pid)
    samples.append(((time.monotonic() - started) / 60, rss, fds, threads))
    closing = time.monotonic()
    host.stdin.close()
    status = host.wait(timeout=30)
    exit_s = time.monotonic() - closing
    first, last = samples[1] if len(samples) > 2 else samples[0], samples[-1]
    peak = max(s[1] for s in samples)
    print(
        f"soak: RSS {first[1]:.1f} MB at {first[0]:.1f} min -> {last[1]:.1f} MB at "
        f"{last[0]:.1f} min ({last[1] - first[1]:+.1f} MB), peak {peak:.1f} MB; fds "
        f"{first[2]} -> {last[2]}; threads {first[3]} -> {last[3]} (max "
        f"{max(s[3] for s in samples)}); {sent} commands; exit {exit_s:.2f} s after end of "
        f"input, status {status}"
    )
    return 0 if status == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
