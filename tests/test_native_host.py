"""The host as Chrome runs it: a subprocess speaking native messaging on stdin/stdout."""

from __future__ import annotations

import json
import os
import queue
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXTENSION_ORIGIN = "chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik/"


class HostProcess:
    """`python -m host <origin>` with helpers to send commands and wait for events."""

    def __init__(self, data_dir: Path) -> None:
        env = {**os.environ, "MOODTUNE_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "host", EXTENSION_ORIGIN],
            cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        self.events: queue.Queue[dict | None] = queue.Queue()
        self.stdout_garbage = bytearray()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.process.stdout
        while header := out.read(4):
            (length,) = struct.unpack("=I", header)
            body = out.read(length)
            try:
                self.events.put(json.loads(body))
            except json.JSONDecodeError:
                self.stdout_garbage += header + body
        self.events.put(None)

    def send_raw(self, body: bytes) -> None:
        self.process.stdin.write(struct.pack("=I", len(body)) + body)
        self.process.stdin.flush()

    def send(self, message: dict) -> None:
        self.send_raw(json.dumps(message).encode())

    def wait_for(self, kind: str, timeout: float = 20.0, **fields) -> dict:
        """The next event of type `kind` (with the given field values), skipping others."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                break
            if event is None:
                raise AssertionError(f"host exited while waiting for {kind}")
            if event["type"] == kind and all(event.get(k) == v for k, v in fields.items()):
                return event
        raise AssertionError(f"no {kind} event {fields} within {timeout} s")

    def close_stdin_and_wait(self) -> float:
        """Close stdin as Chrome does on disconnect; seconds until the process exits."""
        start = time.monotonic()
        self.process.stdin.close()
        self.process.wait(timeout=10)
        return time.monotonic() - start

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def host(tmp_path):
    process = HostProcess(tmp_path / "data")
    yield process
    process.kill()


def test_greets_then_follows_a_face_and_frees_the_camera_at_end_of_input(host, face_video):
    hello = host.wait_for("hello")
    assert hello["protocol"] == 1
    assert hello["model"]["labels"][3] == "happy"
    assert {"hi", "en", "ta", "te", "mr"} <= hello["languages"].keys()
    host.send({"type": "start", "camera": str(face_video)})
    host.wait_for("status", state="camera")
    emotion = host.wait_for("emotion")
    assert emotion["emotion"] in hello["model"]["labels"]
    assert 0 < emotion["confidence"] <= 1
    assert sum(emotion["probabilities"].values()) == pytest.approx(1, abs=0.01)
    assert host.close_stdin_and_wait() < 2.0
    assert host.process.returncode == 0
    assert "Traceback" not in host.process.stderr.read().decode()


def test_ping_is_answered_with_pong(host):
    host.wait_for("hello")
    host.send({"type": "ping", "id": 42})
    assert host.wait_for("pong")["id"] == 42


def test_bad_input_gets_an_error_and_the_host_keeps_serving(host):
    host.wait_for("hello")
    for body, code in [
        (b"{oops", "bad_json"),
        (b"[]", "bad_message"),
        (b'{"type": "teleport"}', "unknown_type"),
        (b'{"type": "set_mode", "mode": "loud"}', "bad_field"),
        (json.dumps({"type": "set_language", "language": "x" * 5000}).encode(), "bad_field"),
        (b"\xc3\x28", "bad_encoding"),
    ]:
        host.send_raw(body)
        error = host.wait_for("error")
        assert (error["code"], error["fatal"]) == (code, False)
    host.send({"type": "set_language", "language": "Klingon"})
    assert host.wait_for("error")["code"] == "unknown_language"
    host.send({"type": "ping", "id": 1})
    assert host.wait_for("pong")["id"] == 1
    assert host.stdout_garbage == b""


def test_missing_camera_is_a_clear_error_not_a_crash(host, tmp_path):
    host.wait_for("hello")
    host.send({"type": "start", "camera": str(tmp_path / "no-such-video.mp4")})
    error = host.wait_for("error", code="camera_unavailable")
    assert "no-such-video.mp4" in error["message"]
    host.send({"type": "ping"})
    host.wait_for("pong")


def test_impossible_length_header_is_fatal_and_the_host_exits_cleanly(host):
    host.wait_for("hello")
    host.process.stdin.write(struct.pack("=I", 0xFFFFFFF0))
    host.process.stdin.flush()
    error = host.wait_for("error")
    assert error["fatal"] is True
    assert host.process.wait(timeout=5) == 1
