"""`moodtune bench --live --video FILE --seconds N [--json]`: the real native host, measured live.

Starts `python -m host` as Chrome would, with FILE as its camera (a file is played at its own
frame rate, like a live device), and watches it from outside for N seconds after the camera is
running: CPU as a percentage of one core (user + system, from /proc, Linux), resident memory
(now and peak), thread count, and every `emotion` and `status` event with its time since the
camera started. What is paid is the whole process, so this is the figure a listener feels; the
per-frame figures of plain `moodtune bench` are only part of it.

With `--away-after S` the host is told to go away after S seconds without a face; the CPU from
the `away` status on is reported apart (`away_cpu_percent`).
"""

from __future__ import annotations

import json
import os
import queue
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

WARM_UP_S = 2.0  # after the camera runs: the model's first calls and the caches settle


def live_figures(video: str, seconds: float, away_after_s: float | None = None) -> dict:
    """The figures in the module docstring for `seconds` of the host on `video`."""
    if not Path(video).is_file():
        raise SystemExit(f"moodtune bench: video file not found: {video}")
    if not Path("/proc/self/stat").is_file():
        raise SystemExit("moodtune bench --live reads the host's CPU from /proc: Linux only")
    ticks_per_s = os.sysconf("SC_CLK_TCK")
    with tempfile.TemporaryDirectory(prefix="moodtune-bench-") as data_dir:
        env = {**os.environ, "MOODTUNE_DATA_DIR": data_dir}
        spawned = time.perf_counter()
        host = subprocess.Popen(
            [sys.executable, "-m", "host", "chrome-extension://bench/"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
        )  # fmt: skip
        assert host.stdin is not None
        events: queue.Queue[tuple[float, dict] | None] = queue.Queue()
        threading.Thread(target=_read_events, args=(host.stdout, events), daemon=True).start()
        try:
            return _watch(host, events, video, seconds, away_after_s, spawned, ticks_per_s)
        finally:
            host.stdin.close()
            try:
                host.wait(timeout=10)
            except subprocess.TimeoutExpired:
                host.kill()


def _watch(host, events, video, seconds, away_after_s, spawned, ticks_per_s) -> dict:
    def send(message: dict) -> None:
        body = json.dumps(message).encode()
        host.stdin.write(struct.pack("=I", len(body)) + body)
        host.stdin.flush()

    def next_event(deadline: float) -> tuple[float, dict]:
        item = events.get(timeout=max(0.01, deadline - time.perf_counter()))
        if item is None:
            raise SystemExit(f"moodtune bench: the host exited (status {host.wait()})")
        return item

    deadline = time.perf_counter() + 30
    while next_event(deadline)[1]["type"] != "hello":
        pass
    hello_at = time.perf_counter()
    if away_after_s is not None:
        send({"type": "set_away", "after_s": away_after_s})
    send({"type": "start", "camera": str(Path(video).resolve())})
    while True:
        at, event = next_event(deadline)
        if event["type"] == "error":
            raise SystemExit(f"moodtune bench: the host says {event['message']}")
        if event["type"] == "status" and event["state"] == "camera":
            camera_at = at
            break
    log: list[dict] = []
    samples: list[tuple[float, int]] = []  # (time, CPU ticks), once a second
    measure_from = camera_at + WARM_UP_S
    end = measure_from + seconds
    away_at = None
    while (now := time.perf_counter()) < end:
        if now >= measure_from and (not samples or now - samples[-1][0] >= 1.0):
            samples.append((now, _cpu_ticks(host.pid)))
        try:
            at, event = next_event(min(end, now + 0.2))
        except queue.Empty:
            continue
        if event["type"] in ("emotion", "status"):
            entry = {"t": round(at - camera_at, 2), "type": event["type"]}
            if event["type"] == "emotion":
                entry |= {"emotion": event["emotion"], "confidence": event["confidence"]}
            else:
                entry |= {key: event.get(key) for key in ("state", "detail", "quality")}
                if event["state"] == "away" and away_at is None:
                    away_at = at
            log.append(entry)
    samples.append((time.perf_counter(), _cpu_ticks(host.pid)))
    status = _proc_status(host.pid)
    report = {
        "video": str(video),
        "seconds": round(samples[-1][0] - samples[0][0], 2),
        "cpu_percent": _cpu_percent(samples, ticks_per_s),
        "rss_mb": status.get("VmRSS"),
        "peak_rss_mb": status.get("VmHWM"),
        "threads": status.get("Threads"),
        "spawn_to_hello_s": round(hello_at - spawned, 3),
        "events": log,
    }
    if away_at is not None:
        away_samples = [s for s in samples if s[0] >= away_at + 1.0]
        report["away_after_s"] = round(away_at - camera_at, 2)
        report["away_cpu_percent"] = _cpu_percent(away_samples, ticks_per_s)
    return report


def _read_events(stream, events: queue.Queue) -> None:
    """Reader thread: each framed event with the time it arrived, then None at the end."""
    while len(header := stream.read(4)) == 4:
        (length,) = struct.unpack("=I", header)
        events.put((time.perf_counter(), json.loads(stream.read(length))))
    events.put(None)


def _cpu_ticks(pid: int) -> int:
    """User + system CPU of a process so far, in clock ticks (/proc/PID/stat fields 14, 15)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def _cpu_percent(samples: list[tuple[float, int]], ticks_per_s: int) -> float | None:
    if len(samples) < 2:
        return None
    (t0, c0), (t1, c1) = samples[0], samples[-1]
    return round(100 * (c1 - c0) / ticks_per_s / (t1 - t0), 2)


def _proc_status(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM in MB and Threads, from /proc/PID/status."""
    wanted = {"VmRSS", "VmHWM", "Threads"}
    figures: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in wanted:
            number = int(value.split()[0])
            figures[name] = number if name == "Threads" else round(number / 1024, 1)
    return figures
