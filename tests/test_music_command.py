"""`moodtune recommend`, as a listener runs it."""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ytmusic_replay import Replay, replay_client

from host.commands.recommend import recommend_command, register
from host.music import Recommender
from host.music.store import DB_NAME, Store

ROOT = Path(__file__).resolve().parents[1]
RUN = (
    "import sys; from host.commands.recommend import recommend_command as r; "
    "sys.exit(r(sys.argv[1:]))"
)


@pytest.fixture
def no_network(monkeypatch, tmp_path):
    """Point the data dir at tmp_path and all HTTPS at a closed local port."""
    monkeypatch.setenv("MOODTUNE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    return tmp_path


def warm(data_dir: Path) -> None:
    """Cache sad Hindi music in the data dir's store, from the recorded answers."""
    store = Store(data_dir / DB_NAME)
    Recommender(store, replay_client(Replay())).recommend("sad", "hi", count=1)
    store.close()


def run_command(*args: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", RUN, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done, time.monotonic() - started


def test_a_cached_mood_prints_tracks_without_network(no_network, capsys):
    warm(no_network)
    assert recommend_command(["--emotion", "sad", "--language", "Hindi", "--count", "5"]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if "music.youtube.com/watch?v=" in line]
    assert len(lines) == 5
    assert "sad, melancholic, to match sad" in out


def test_json_output_lists_the_tracks(no_network, capsys):
    warm(no_network)
    assert recommend_command(["--emotion", "sad", "--language", "hi", "--json"]) == 0
    tracks = json.loads(capsys.readouterr().out)
    assert len(tracks) == 10
    assert set(tracks[0]) == {
        "video_id",
        "title",
        "artists",
        "album",
        "duration_s",
        "thumbnail",
        "reason",
    }


def test_an_unknown_language_is_one_line_naming_the_choices(no_network, capsys):
    assert recommend_command(["--emotion", "sad", "--language", "Klingon"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert "unknown language 'Klingon'" in captured.err and "ko (Korean)" in captured.err


def test_without_network_it_fails_fast_with_one_line_and_a_search_link(no_network):
    env = {"PATH": "/usr/bin:/bin", "MOODTUNE_DATA_DIR": str(no_network)}
    env["HTTPS_PROXY"] = f"http://127.0.0.1:{_closed_port()}"
    done, seconds = run_command("--emotion", "sad", "--language", "hi", env=env)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("moodtune recommend: YouTube Music is unreachable")
    assert "https://music.youtube.com/search?q=" in done.stderr
    assert seconds < 10


@pytest.mark.slow
def test_a_network_that_never_answers_cannot_hang_it(no_network):
    with socket.socket() as silent:  # accepts connections, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        env = {"PATH": "/usr/bin:/bin", "MOODTUNE_DATA_DIR": str(no_network)}
        env["HTTPS_PROXY"] = f"http://127.0.0.1:{silent.getsockname()[1]}"
        done, seconds = run_command(
            "--emotion", "neutral", "--mode", "calm", "--language", "ja", env=env
        )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr
    assert "unreachable" in done.stderr or "did not answer" in done.stderr
    assert seconds < 10


def test_moodtune_has_the_recommend_subcommand():
    parser = argparse.ArgumentParser(prog="moodtune")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["recommend", "--emotion", "fear", "--language", "ta", "--json"])
    assert (args.emotion, args.language, args.mode, args.count, args.json) == (
        "fear",
        "ta",
        "match",
        10,
        True,
    )
    assert callable(args.run)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
