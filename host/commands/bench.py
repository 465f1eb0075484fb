"""`moodtune bench --video FILE [--json]`: the whole per-frame pipeline on a video, timed.

The video's frames are read as the live host reads a camera's: at its full rate while the face
moves or reads differently, at the steady rate while it holds still, more slowly with no face
(host/vision/pipeline.py), the rest slept through. Prints frames (in the video, and processed),
faces found, steady frames, CPU and wall milliseconds per processed frame (median and p95;
decoding the video is timed apart, since a webcam delivers decoded frames), model milliseconds
per face, the mood events with their video times, start-up seconds (command entry, before OpenCV
and LiteRT are imported, to the first processed frame) and peak resident memory.

When the video has a timeline next to it (`FILE.json`, written by `python -m training
make-video`), it also scores the mood tracker: the latency from an expression change to the
`emotion` event, and mood switches within one held expression (false switches) per minute.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from host.vision.scoring import score_mood, spread


def register(subcommands) -> None:
    parser = subcommands.add_parser("bench", help="time the face/emotion/mood pipeline on a video")
    parser.add_argument("--video", required=True, help="video file to process frame by frame")
    parser.add_argument("--model-dir", default=None, help="folder with emotion.tflite, model.json")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--host", action="store_true",
        help="also run the real native host on the video and time its start-up and memory",
    )  # fmt: skip
    parser.add_argument(
        "--live", action="store_true",
        help="instead, run the real native host on the video as its camera and measure its CPU",
    )  # fmt: skip
    parser.add_argument("--seconds", type=float, default=30.0, help="how long --live measures")
    parser.add_argument(
        "--away-after", type=float, default=None,
        help="with --live: tell the host to go away after this many seconds without a face",
    )  # fmt: skip
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.model_dir and (args.live or args.host):
        # Both start the host as the browser does, and the host reads the shipped model only.
        raise SystemExit(
            "moodtune bench: --model-dir times the pipeline only; --live and --host start the "
            "host as the browser does, which always reads the shipped model. To measure another "
            "model there, run moodtune from a checkout whose model/ folder holds it."
        )
    if args.live:
        from host.commands.bench_live import live_figures

        live = live_figures(args.video, args.seconds, args.away_after)
        if args.json:
            print(json.dumps(live))
        else:
            for key, value in live.items():
                if key != "events":
                    print(f"{key:>24}: {value}")
            for event in live["events"]:
                what = event.get("emotion") if event["type"] == "emotion" else event["state"]
                print(f"{event['t']:8.2f}s  {event['type']:<8} {what or 'no face'}")
        return 0
    report = bench(args.video, args.model_dir)
    if args.host:
        report["host"] = host_figures(args.video)
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            if key != "events":
                print(f"{key:>24}: {value}")
        for event in report["events"]:
            print(f"{event['t']:8.1f}s  {event['emotion'] or 'no face'}  {event['confidence']:.2f}")
    return 0


def bench(video: str, model_dir: str | None = None) -> dict:
    """Process `video` as the live host watches a camera; a dict of the figures described in
    the module docstring."""
    import cv2

    from host import STARTED
    from host.vision.emotion import MODEL_DIR, EmotionModel
    from host.vision.pipeline import FacePipeline, frame_period

    model = EmotionModel.load(model_dir or MODEL_DIR)
    pipeline = FacePipeline(model)
    model_ms = _time_calls(model)
    capture = cv2.VideoCapture(video)
    if not capture.isOpened():
        raise SystemExit(f"moodtune bench: cannot open video {video}")
    fps = capture.get(cv2.CAP_PROP_FPS) or 10.0
    cpu_ms: list[float] = []
    wall_ms: list[float] = []
    decode_ms: list[float] = []
    events: list[dict] = []
    probabilities: list = []  # per video frame: what the mood tracker read (None: not read)
    faces = steady = 0
    startup_s = None
    due = 0.0  # the video time of the next frame the host would read
    while True:
        wall0 = time.perf_counter()
        ok, image = capture.read()
        if not ok:
            break
        timestamp = len(probabilities) / fps
        if timestamp < due - 1e-6:  # the host sleeps through this frame
            probabilities.append(None)
            continue
        wall1, cpu1 = time.perf_counter(), time.process_time()
        result = pipeline.process(image, timestamp)
        cpu_ms.append((time.process_time() - cpu1) * 1e3)
        wall_ms.append((time.perf_counter() - wall1) * 1e3)
        decode_ms.append((wall1 - wall0) * 1e3)
        startup_s = startup_s or time.perf_counter() - STARTED
        due = max(due + frame_period(result), timestamp)
        faces += result.box is not None
        steady += result.steady
        probabilities.append(result.probabilities)
        if result.mood is not None:
            mood = result.mood
            events.append(
                {"frame": len(probabilities) - 1, "t": round(result.timestamp, 2),
                 "emotion": mood.emotion, "confidence": round(mood.confidence, 3)}
            )  # fmt: skip
    capture.release()
    report = {
        "video": str(video),
        "frames": len(probabilities),
        "frames_processed": len(wall_ms),
        "faces_found": faces,
        "steady_frames": steady,
        "cpu_ms_per_frame": spread(cpu_ms),
        "wall_ms_per_frame": spread(wall_ms),
        "decode_ms_per_frame": spread(decode_ms),
        "model_ms_per_face": spread(model_ms),
        "startup_s": round(startup_s or 0.0, 3),
        "peak_rss_mb": _peak_rss_mb(),
        "events": events,
    }
    timeline = Path(f"{video}.json")
    if timeline.exists():
        report["mood"] = score_mood(events, probabilities, json.loads(timeline.read_text()), fps)
    return report


def host_figures(video: str, seconds: float = 15.0) -> dict:
    """Start `python -m host` as Chrome would, with `video` as the camera, and time it.

    Returns seconds from spawning to `hello`, from `start` to the camera running, to the first
    `emotion` event, and the process's peak resident memory (Linux) after `seconds` of work.
    """
    import subprocess

    from host.protocol import Start
    from host.transports.framing import read_frame, write_frame

    def read_event() -> dict:
        body = read_frame(host_out)
        if body is None:
            raise SystemExit("moodtune bench: the host ended before it was timed")
        return json.loads(body)

    def wait_for(kind: str) -> float:
        while read_event()["type"] != kind:
            pass
        return time.perf_counter()

    spawned = time.perf_counter()
    host = subprocess.Popen(
        [sys.executable, "-m", "host", "chrome-extension://bench/"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    assert host.stdin is not None and host.stdout is not None
    host_in, host_out = host.stdin, host.stdout
    try:
        hello = wait_for("hello")
        start = Start(type="start", camera=str(Path(video).resolve()))
        write_frame(host_in, start.model_dump_json().encode())
        started = time.perf_counter()
        while (event := read_event())["type"] != "status" or event["state"] != "camera":
            pass
        camera = time.perf_counter()
        emotion = wait_for("emotion")
        time.sleep(max(0.0, seconds - (emotion - spawned)))
        peak_mb = _process_peak_mb(host.pid)
    finally:
        host_in.close()
        host.wait(timeout=5)
    return {
        "spawn_to_hello_s": round(hello - spawned, 3),
        "start_to_camera_s": round(camera - started, 3),
        "spawn_to_first_emotion_s": round(emotion - spawned, 3),
        "peak_rss_mb": peak_mb,
    }


def _process_peak_mb(pid: int) -> float | None:
    """Peak resident memory of another process, from /proc (None where there is none)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    kilobytes = next(
        int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")
    )
    return round(kilobytes / 1024, 1)


def _time_calls(model) -> list[float]:
    """Wrap model.predict so each call's wall time (ms) lands in the returned list."""
    timings: list[float] = []
    predict = model.predict

    def timed(crop):
        start = time.perf_counter()
        out = predict(crop)
        timings.append((time.perf_counter() - start) * 1e3)
        return out

    model.predict = timed
    return timings


def _peak_rss_mb() -> float | None:
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / 2**20 if sys.platform == "darwin" else peak / 1024, 1)
