"""The `moodtune` command as a newcomer meets it: bare, --help, and `doctor` on a machine with
one browser."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from host.commands.install import EXTENSION_ID
from host.transports.framing import read_frame, write_frame

REPO = Path(__file__).resolve().parent.parent
LITERT_BANNER = "Created TensorFlow Lite XNNPACK delegate"


def moodtune(*args: str, env: dict[str, str] | None = None, stdin: bytes = b"", timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "host", *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        input=stdin,
        capture_output=True,
        timeout=timeout,
    )


def test_bare_moodtune_prints_help_and_never_starts_the_host():
    done = moodtune()
    assert done.returncode == 0
    out = done.stdout.decode()
    assert out.startswith("usage: moodtune")
    for command in ("demo", "install", "doctor", "recommend", "bench"):
        assert f"    {command}" in out
    assert "moodtune demo" in out  # where a newcomer starts
    assert done.stderr == b""


def test_help_opens_with_what_moodtune_is():
    done = moodtune("--help")
    assert done.returncode == 0
    description = done.stdout.decode().split("\n\n")[1]
    assert description == "moodtune: music that follows your face."


def test_the_host_runs_when_started_as_the_browser_starts_it(tmp_path):
    done = moodtune(f"chrome-extension://{EXTENSION_ID}/", env={"MOODTUNE_DATA_DIR": str(tmp_path)})
    hello = json.loads(read_frame(io.BytesIO(done.stdout)))
    assert hello["type"] == "hello"
    assert LITERT_BANNER not in done.stderr.decode()


def video_file(path: Path) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for _ in range(5):
        writer.write(np.full((48, 64, 3), 128, np.uint8))
    writer.release()
    return path


def test_bench_says_when_it_cannot_time_the_model_it_was_given(tmp_path):
    """The real host reads the shipped model, so a live figure for another would be a lie."""
    video = video_file(tmp_path / "v.avi")
    for mode in ("--live", "--host"):
        done = moodtune("bench", "--video", str(video), mode, "--model-dir", str(tmp_path))
        assert done.returncode != 0
        error = done.stderr.decode()
        assert "--model-dir times the pipeline only" in error and "Traceback" not in error


def start_camera_as_the_extension(camera: str, env: dict[str, str]) -> None:
    """Run the host as the browser does and have it start `camera`, as the popup would."""
    commands = io.BytesIO()
    write_frame(commands, json.dumps({"type": "start", "camera": camera}).encode())
    done = moodtune(f"chrome-extension://{EXTENSION_ID}/", env=env, stdin=commands.getvalue())
    assert done.returncode == 0, done.stderr.decode()


@pytest.mark.skipif(sys.platform != "linux", reason="lays out a Linux home folder")
def test_doctor_on_a_machine_with_one_browser(tmp_path):
    home = tmp_path / "home"
    (home / ".config" / "chromium" / "Default").mkdir(parents=True)  # Chromium has been opened
    env = {"HOME": str(home), "MOODTUNE_DATA_DIR": str(tmp_path / "data"), "XDG_CONFIG_HOME": ""}
    env["PYTHONPATH"] = str(REPO)  # so the launcher's host is this checkout's

    before = moodtune("doctor", env=env)
    report = before.stdout.decode()
    assert before.returncode == 1
    assert "FAIL  chromium registration: no manifest" in report
    assert "fix: moodtune install --browser chromium" in report
    for absent in ("chrome", "brave", "edge"):
        assert f"skip  {absent} registration: not installed, skipped" in report

    assert moodtune("install", "--browser", "chromium", env=env).returncode == 0
    video = video_file(tmp_path / "me.avi")
    start_camera_as_the_extension(str(video), env)

    after = moodtune("doctor", env=env, timeout=120)
    report = after.stdout.decode()
    assert after.returncode == 0, report
    camera = f"ok    camera (the extension's choice): the video file {video} gives frames"
    assert f"{camera}, 64x48 at 10 fps" in report  # the mode it delivers
    assert "ok    chromium registration" in report
    assert "ok    host start" in report
    assert report.rstrip().endswith("all good")
    assert LITERT_BANNER not in report + after.stderr.decode()
