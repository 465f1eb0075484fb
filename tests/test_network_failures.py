"""The host against a YouTube Music that trickles, hangs, throttles, fails, answers nonsense or
answers far too much: pause still works at once, the host still leaves at once, memory stays.

The bounds asserted are generous (the machine is shared and noisy); tests/bench_network.py prints
the measured figures against the targets (pause within 1 s, exit within 2 s, 200 MB).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from host_process import HostProcess
from ytmusic_server import MODES, MisbehavingYouTubeMusic, run_scenario

from host.music.client import AnswerTooLarge, DeadlinePassed, TimeoutSession

SAMPLE_VIDEO = Path(__file__).resolve().parent.parent / "host" / "data" / "sample.mp4"


@pytest.mark.parametrize("mode", MODES)
def test_pause_and_exit_are_prompt_whatever_youtube_music_does(mode, tmp_path):
    figures = run_scenario(mode, tmp_path, SAMPLE_VIDEO)
    assert figures.pause_s < 2.0, figures
    assert figures.pong_s < 2.0, figures
    assert figures.exit_s < 4.0, figures
    assert figures.returncode == 0, figures.stderr
    assert "Fatal Python error" not in figures.stderr
    if mode == "huge":
        assert figures.peak_rss_mb < 300, "the 300 MB answer was not held in memory"


@pytest.mark.parametrize(
    ("mode", "code", "words"),
    [
        ("wrong-shape", "music_unreadable", "answered something moodtune cannot read"),
        ("huge", "music_unreadable", "answered something moodtune cannot read"),
        ("throttled", "music_unavailable", "refused"),
    ],
)
def test_the_error_says_what_youtube_music_did(mode, code, words, tmp_path):
    server = MisbehavingYouTubeMusic(tmp_path, mode)
    host = HostProcess(tmp_path / "data", env=server.environment)
    try:
        host.wait_for("hello")
        host.send({"type": "more_tracks", "count": 5})
        error = host.wait_for("error", timeout=40, code=code)
        assert words in error["message"]
        assert "unreachable" not in error["message"]
        assert error["fallback_url"].startswith("https://music.youtube.com/search?q=")
    finally:
        host.kill()
        server.close()


@pytest.mark.parametrize("mode", ["trickle", "hang"])
def test_a_fetch_ends_by_its_deadline_however_slowly_the_answer_comes(mode, tmp_path, monkeypatch):
    server = MisbehavingYouTubeMusic(tmp_path, mode)
    for name, value in server.environment.items():
        monkeypatch.setenv(name, value)
    session = TimeoutSession(timeout=(3.05, 6.0), deadline_s=1.0)
    started = time.monotonic()
    try:
        with pytest.raises(DeadlinePassed, match="within 1 s"):
            session.get("https://music.youtube.com/")
        assert time.monotonic() - started < 4.0, "not the per-read timeout, nor for ever"
    finally:
        server.close()


def test_an_answer_over_the_cap_is_refused_without_reading_it_all(tmp_path, monkeypatch):
    server = MisbehavingYouTubeMusic(tmp_path, "huge")
    for name, value in server.environment.items():
        monkeypatch.setenv(name, value)
    try:
        with pytest.raises(AnswerTooLarge):
            TimeoutSession(max_answer_bytes=1024 * 1024).get("https://music.youtube.com/")
        assert server.bytes_sent < 64 * 1024 * 1024, "the rest of the 300 MB was never read"
    finally:
        server.close()
