"""`moodtune demo`: the local page, its guard, its live stream and its terminal lines.

Each test serves the real demo on 127.0.0.1 with the shipped model; a video of real faces stands
in for the webcam. Music is left out (music=None): its own tests cover it.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import cv2
import numpy as np
import pytest

from host.commands.demo import DEMO_PROFILE, SAMPLE_VIDEO, camera_source, running_demo
from host.music.store import DB_NAME, Store
from host.session import OLD_SHARED_PROFILE
from host.transports.web import PREVIEW_WIDTH, WebTransport
from host.vision.calibration import Calibration
from host.vocabulary import EMOTIONS

REPO = Path(__file__).resolve().parent.parent
MISSING_CAMERA = 63  # the highest index `start` accepts; no machine here has 64 cameras
WAIT_S = 15.0  # generous: a model-training job may share this machine's cores


@asynccontextmanager
async def demo(
    model_dir: Path, camera: int | str | None = None
) -> AsyncIterator[tuple[WebTransport, io.StringIO]]:
    """The demo served for `camera`, with what it prints in the terminal."""
    terminal = io.StringIO()
    async with running_demo(camera, music=None, model_dir=model_dir, out=terminal) as transport:
        yield transport, terminal


def address(transport: WebTransport, path: str, token: str | None = None) -> str:
    token = transport.token if token is None else token
    return f"http://127.0.0.1:{transport.port}{path}?token={token}"


async def next_message(socket: aiohttp.ClientWebSocketResponse, kind: str) -> dict:
    """The next message of type `kind`, skipping the others."""

    async def find() -> dict:
        while True:
            message = json.loads((await socket.receive()).data)
            if message["type"] == kind:
                return message

    return await asyncio.wait_for(find(), WAIT_S)


async def test_every_request_needs_the_token(model_dir: Path) -> None:
    async with demo(model_dir) as (transport, _), aiohttp.ClientSession() as http:
        for path in ("/", "/demo.js", "/demo.css", "/ws", "/preview.mjpg"):
            for token in ("", "wrong"):
                async with http.get(address(transport, path, token)) as response:
                    assert response.status == 403, (path, token)
        async with http.get(address(transport, "/")) as response:
            assert response.status == 200
            page = await response.text()
            assert response.headers["Referrer-Policy"] == "no-referrer"
        assert f"demo.js?token={transport.token}" in page
        async with http.get(address(transport, "/demo.js")) as response:
            assert response.status == 200


async def test_the_websocket_refuses_other_origins(model_dir: Path) -> None:
    async with demo(model_dir) as (transport, _), aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(address(transport, "/ws"), origin="http://evil.example")
        assert refused.value.status == 403
        own_origin = f"http://localhost:{transport.port}"
        async with http.ws_connect(address(transport, "/ws"), origin=own_origin) as socket:
            assert (await next_message(socket, "hello"))["version"]


async def test_the_websocket_greets_and_reports_the_mood_of_a_video(
    model_dir: Path, face_video: Path
) -> None:
    async with (
        demo(model_dir) as (transport, terminal),
        aiohttp.ClientSession() as http,
        http.ws_connect(address(transport, "/ws")) as socket,
    ):
        hello = await next_message(socket, "hello")
        assert hello["model"] is not None
        assert (await next_message(socket, "status"))["state"] == "idle"
        await socket.send_json({"type": "start", "camera": str(face_video)})
        assert (await next_message(socket, "status"))["state"] == "starting"
        assert (await next_message(socket, "status"))["state"] == "camera"
        live = await next_message(socket, "live")
        assert set(live) == {"type", "face", "quality", "probabilities"}
        emotion = await next_message(socket, "emotion")
    assert emotion["emotion"] in hello["model"]["labels"]
    assert re.search(rf"\d\d:\d\d:\d\d  mood: {emotion['emotion']} \(\d+%\)", terminal.getvalue())


def saved_calibration(made_at: float) -> dict:
    return Calibration(np.zeros(len(EMOTIONS)), made_at, frames=50).to_json()


async def test_the_demo_keeps_a_calibration_of_its_own_beside_the_browser_profiles(
    model_dir: Path, tmp_path: Path
) -> None:
    store = Store(tmp_path / DB_NAME)
    others = {OLD_SHARED_PROFILE: 100.0, "0b5e2a44-3c1d-4f0e-9a77-2d6c8e1f4b90": 200.0}
    for profile, made_at in others.items():
        store.save_calibration(profile, saved_calibration(made_at), made_at)

    async def demo_says() -> float | None:
        async with (
            running_demo(
                None, music=None, model_dir=model_dir, out=io.StringIO(), store=store
            ) as transport,
            aiohttp.ClientSession() as http,
            http.ws_connect(address(transport, "/ws")) as socket,
        ):
            return (await next_message(socket, "hello"))["calibrated_since"]

    assert await demo_says() is None, "neither a browser profile's nor the old shared one"
    store.save_calibration(DEMO_PROFILE, saved_calibration(300.0), 300.0)
    assert await demo_says() == 300.0
    assert {p: store.calibration(p)["made_at"] for p in others} == others
    store.close()


async def test_the_demo_keeps_a_journal_of_its_own_beside_the_browser_profiles(
    model_dir: Path, tmp_path: Path
) -> None:
    store = Store(tmp_path / DB_NAME)
    browser_profile = "0b5e2a44-3c1d-4f0e-9a77-2d6c8e1f4b90"
    store.add_played(browser_profile, "abcdef12345", "Their Song", ["Them"], "sad")
    async with (
        running_demo(None, music=None, model_dir=model_dir, out=io.StringIO(), store=store) as t,
        aiohttp.ClientSession() as http,
        http.ws_connect(address(t, "/ws")) as socket,
    ):
        await next_message(socket, "hello")
        await socket.send_json({"type": "override_mood", "emotion": "surprise"})
        await next_message(socket, "emotion")
        await socket.send_json({"type": "get_journal"})
        journal = await next_message(socket, "journal")
    assert [m["emotion"] for m in journal["moods"]] == ["surprise"]
    assert journal["tracks"] == [], "a browser profile's journal is not the demo's"
    now = time.time() + 1
    assert [m.emotion for m in store.journal(DEMO_PROFILE, 0, now).moods] == ["surprise"]
    assert store.journal(browser_profile, 0, now).moods == []
    assert [t.title for t in store.journal(browser_profile, 0, now).tracks] == ["Their Song"]
    store.close()


async def test_the_preview_stream_yields_jpegs_with_the_video(
    model_dir: Path, face_video: Path
) -> None:
    async with (
        demo(model_dir, str(face_video)) as (transport, _),
        aiohttp.ClientSession() as http,
        http.get(address(transport, "/preview.mjpg")) as response,
    ):
        assert response.content_type == "multipart/x-mixed-replace"
        head = await asyncio.wait_for(response.content.readuntil(b"\r\n\r\n"), WAIT_S)
        length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
        jpeg = await response.content.readexactly(length)
    picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert b"Content-Type: image/jpeg" in head
    assert picture is not None and picture.shape[1] <= PREVIEW_WIDTH


async def test_without_a_camera_page_and_terminal_say_so_and_offer_the_sample(
    model_dir: Path,
) -> None:
    async with (
        demo(model_dir, MISSING_CAMERA) as (transport, terminal),
        aiohttp.ClientSession() as http,
        http.ws_connect(address(transport, "/ws")) as socket,
    ):
        offer = await next_message(socket, "demo")
        assert offer["sample_video"] == str(SAMPLE_VIDEO)
        status = await next_message(socket, "status")
        assert status["state"] == "error"
        assert f"camera {MISSING_CAMERA}" in status["detail"]
        await socket.send_json({"type": "start", "camera": offer["sample_video"]})
        await next_message(socket, "status")  # starting
        assert (await next_message(socket, "status"))["state"] == "camera"
    said = terminal.getvalue()
    assert f"no camera: cannot open camera {MISSING_CAMERA}" in said
    assert "moodtune demo --camera sample" in said


def test_camera_argument_takes_an_index_a_file_or_the_sample(tmp_path: Path) -> None:
    assert camera_source("2") == 2
    assert camera_source("sample") == str(SAMPLE_VIDEO)
    assert camera_source(str(SAMPLE_VIDEO)) == str(SAMPLE_VIDEO)
    with pytest.raises(argparse.ArgumentTypeError, match="no video file"):
        camera_source(str(tmp_path / "missing.mp4"))


def test_the_command_prints_the_address_and_mood_changes_and_stops_on_ctrl_c(
    tmp_path: Path,
) -> None:
    environment = {**os.environ, "MOODTUNE_DATA_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "host", "demo", "--camera", "sample", "--no-browser"]
    with subprocess.Popen(
        command, cwd=REPO, env=environment, stdout=subprocess.PIPE, text=True
    ) as process:
        # A hung demo is killed, which ends its output and fails the reads below.
        watchdog = threading.Timer(2 * WAIT_S, process.kill)
        watchdog.start()
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
            assert re.match(r"moodtune demo: open http://127\.0\.0\.1:\d+/\?token=\S+$", first)
            while "  mood: " not in (line := process.stdout.readline()):
                assert line, "the demo ended before printing a mood"
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=WAIT_S) == 0
        finally:
            watchdog.cancel()
            process.kill()


async def test_hostile_messages_on_the_websocket_get_errors_and_keep_the_page_connected(
    model_dir: Path,
) -> None:
    async with (
        demo(model_dir) as (transport, _terminal),
        aiohttp.ClientSession() as http,
        http.ws_connect(address(transport, "/ws")) as socket,
    ):
        await next_message(socket, "hello")
        for text in ("[" * 1000 + "]" * 1000, '{"type": "ping", "id": ' + "9" * 5000 + "}"):
            await socket.send_str(text)
            assert (await next_message(socket, "error"))["fatal"] is False
        await socket.send_json({"type": "start", "camera": "²"})
        assert (await next_message(socket, "error"))["code"] == "camera_unavailable"
        await socket.send_json({"type": "ping", "id": 5})
        assert (await next_message(socket, "pong"))["id"] == 5


def test_the_terminal_says_what_no_tracks_means() -> None:
    from host.commands.demo import TerminalReport
    from host.protocol import Tracks

    out = io.StringIO()
    empty = Tracks(emotion="happy", mode="match", language="en", reason="mood", tracks=())
    TerminalReport(out, sample_available=True).show(empty)
    line = out.getvalue().strip()
    assert re.search(r"no tracks for happy \(en, match\): YouTube Music found nothing", line)
    assert not line.endswith(":")


def test_the_bundled_sample_shows_every_mood_its_timeline_lists(model_dir: Path) -> None:
    """Played through the shipped finder, model and mood tracker, each face's segment settles
    on the mood the timeline says (how they were chosen: the JSON's chosen_by)."""
    from host.vision.emotion import EmotionModel
    from training.sample import moods_shown

    timeline = json.loads(Path(f"{SAMPLE_VIDEO}.json").read_text())
    listed = [segment["emotion"] for segment in timeline["segments"]]
    assert set(listed) == {"angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"}
    assert "chosen_by" in timeline
    shown = moods_shown(EmotionModel.load(model_dir), SAMPLE_VIDEO, len(listed))
    assert shown == listed
