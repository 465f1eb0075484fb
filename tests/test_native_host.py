"""The host as Chrome runs it: a subprocess speaking native messaging on stdin/stdout."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys

import pytest
from host_process import EXTENSION_ORIGIN, REPO, HostProcess


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
    assert "Traceback" not in host.stderr


def imported(stderr: str) -> set[str]:
    """Top-level packages in a `PYTHONPROFILEIMPORTTIME` log."""
    return {
        line.split("|")[-1].strip().split(".")[0]
        for line in stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def test_the_host_imports_only_what_it_needs(tmp_path, face_video):
    # Memory and start-up: no training stack, no web server, and no network client until music
    # is first fetched.
    host = HostProcess(tmp_path / "data", env={"PYTHONPROFILEIMPORTTIME": "1"})
    try:
        host.wait_for("hello")
        host.send({"type": "ping", "id": 1})
        host.wait_for("pong")
        at_hello = imported(host.stderr)
        host.send({"type": "start", "camera": str(face_video)})
        host.wait_for("emotion")
        host.close_stdin_and_wait()
    finally:
        host.kill()
    assert {"cv2", "numpy", "pydantic", "ai_edge_litert"} <= imported(host.stderr)
    assert not at_hello & {"requests", "urllib3", "ytmusicapi"}
    assert not imported(host.stderr) & {"tensorflow", "keras", "aiohttp", "matplotlib"}


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


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"[" * 1000 + b"]" * 1000, "bad_message"),
        (b'{"type": "ping", "id": ' + b"9" * 5000 + b"}", "bad_field"),
        (b'{"type": "ping", "id": "\\ud800"}', "bad_encoding"),
        (b'{"type": "set_mode", "mode": NaN}', "bad_json"),
        (b'{"type": "' + b"t" * 100_000 + b'"}', "bad_field"),
    ],
    ids=["deep", "huge-number", "surrogate", "nan", "huge-type"],
)
def test_hostile_input_is_an_error_event_and_the_host_serves_on(host, body, code):
    host.wait_for("hello")
    host.send_raw(body)
    error = host.wait_for("error")
    assert (error["code"], error["fatal"]) == (code, False)
    assert len(error["message"]) < 200, "the input is not echoed back whole"
    host.send({"type": "ping", "id": 7})
    assert host.wait_for("pong")["id"] == 7


@pytest.mark.parametrize("camera", ["²", "①", "٣", " 1 ", "99999999999999999999", ""])
def test_camera_strings_that_look_like_numbers_are_errors_not_crashes(host, camera):
    host.wait_for("hello")
    host.send({"type": "start", "camera": camera})
    assert host.wait_for("error")["code"] in ("camera_unavailable", "bad_field")
    host.send({"type": "ping", "id": 1})
    assert host.wait_for("pong")["id"] == 1


def test_the_end_of_input_is_a_clean_exit_even_mid_command(host, face_video):
    host.wait_for("hello")
    host.send({"type": "start", "camera": str(face_video)})
    host.send({"type": "played", "video_id": "abcdefghijk"})
    assert host.close_stdin_and_wait() < 2.5
    assert host.process.returncode == 0
    assert "Fatal Python error" not in host.stderr


def test_the_browser_closing_the_hosts_output_is_a_clean_exit(tmp_path):
    env = {**os.environ, "MOODTUNE_DATA_DIR": str(tmp_path / "data")}
    process = subprocess.Popen(
        [sys.executable, "-m", "host", EXTENSION_ORIGIN],
        cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        header = process.stdout.read(4)  # the hello's header: the host is serving
        assert len(header) == 4
        process.stdout.close()
        ping = json.dumps({"type": "ping", "id": 1}).encode()
        for _ in range(20):  # each pong now meets a closed pipe
            process.stdin.write(struct.pack("=I", len(ping)) + ping)
            process.stdin.flush()
        assert process.wait(timeout=5) == 0
        stderr = process.stderr.read().decode()
        assert "Fatal Python error" not in stderr
        assert "Traceback" not in stderr
    finally:
        if process.poll() is None:
            process.kill()


def test_a_store_that_cannot_be_opened_still_says_hello_then_why(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "moodtune.db").mkdir()  # a folder where the file should be
    process = HostProcess(data)
    try:
        assert process.wait_for("hello")["type"] == "hello"
        error = process.wait_for("error", code="store_unavailable")
        assert error["fatal"] is False
        assert "moodtune.db" in error["message"]
        process.send({"type": "played", "video_id": "abcdefghijk"})
        process.send({"type": "feedback", "video_id": "abcdefghijk", "liked": True})
        process.send({"type": "ping", "id": 3})
        assert process.wait_for("pong")["id"] == 3
    finally:
        process.kill()


def test_the_host_log_is_kept_with_timestamps_across_starts(tmp_path):
    for _ in range(2):
        process = HostProcess(tmp_path / "data")
        process.wait_for("hello")
        process.close_stdin_and_wait()
    log = (tmp_path / "data" / "native-host" / "host.log").read_text()
    starts = [line for line in log.splitlines() if "moodtune host" in line and "started" in line]
    assert len(starts) == 2, log
    assert all(line[:4].isdigit() and line[4] == "-" for line in starts), "timestamped"


def test_an_error_too_large_to_send_is_cut_and_keeps_its_code():
    from host.protocol import Error, Pong
    from host.transports.framing import MAX_OUTGOING
    from host.transports.native import _encoded

    body = _encoded(Error(code="music_error", message="x" * (2 * MAX_OUTGOING)))
    assert len(body) <= MAX_OUTGOING
    sent = json.loads(body)
    assert sent["code"] == "music_error"
    assert sent["message"].endswith("more characters cut)")
    other = json.loads(_encoded(Pong(id="y" * 64)))
    assert other == {"type": "pong", "id": "y" * 64}
