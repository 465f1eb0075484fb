"""The session as the extension drives it: commands in, events out, with the real model,
a video file as the camera, and YouTube Music answered from recordings."""

from __future__ import annotations

import asyncio
import time

import pytest
import requests
from ytmusic_replay import replay_client

from host.music import MusicWorker, Recommender
from host.music.store import DB_NAME, Store
from host.protocol import Event
from host.session import Session


class Listener:
    """Collects the session's events and waits for the ones a test expects."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._arrived = asyncio.Event()

    async def send(self, event: Event) -> None:
        self.events.append(event)
        self._arrived.set()

    async def wait_for(self, kind: str, timeout: float = 20.0, **fields) -> Event:
        async def first_match() -> Event:
            seen = 0
            while True:
                for event in self.events[seen:]:
                    if event.type == kind and all(
                        getattr(event, k) == v for k, v in fields.items()
                    ):
                        self.events.remove(event)
                        return event
                seen = 0
                self._arrived.clear()
                await self._arrived.wait()

        return await asyncio.wait_for(first_match(), timeout)


@pytest.fixture
async def session(tmp_path, replay, model_dir):
    store = Store(tmp_path / DB_NAME)
    listener = Listener()
    music = MusicWorker(Recommender(store, replay_client(replay)))
    running = Session(listener.send, music, model_dir=model_dir)
    running.listener = listener
    await running.open()
    yield running
    await running.close()
    store.close()


async def test_opens_with_hello_and_idle_status(session):
    hello = await session.listener.wait_for("hello")
    assert hello.language == "en" and hello.mode == "match"
    assert hello.model is not None and len(hello.model.labels) == 7
    await session.listener.wait_for("status", state="idle")


async def test_language_change_brings_a_queue_in_that_language(session, replay):
    await session.handle(b'{"type": "set_language", "language": "hi"}')
    tracks = await session.listener.wait_for("tracks", reason="language")
    assert tracks.language == "hi" and len(tracks.tracks) >= 5
    assert all(t.video_id and t.title and t.reason for t in tracks.tracks)


async def test_language_by_display_name_and_unknown_language(session):
    await session.handle(b'{"type": "set_language", "language": "Korean"}')
    assert (await session.listener.wait_for("tracks")).language == "ko"
    await session.handle(b'{"type": "set_language", "language": "Elvish"}')
    error = await session.listener.wait_for("error", code="unknown_language")
    assert "Elvish" in error.message
    assert session.language == "ko"  # the listener's choice is kept


async def test_manual_override_sets_the_mood_and_the_music(session):
    await session.handle(b'{"type": "override_mood", "emotion": "sad"}')
    event = await session.listener.wait_for("emotion", source="override")
    assert event.emotion == "sad"
    tracks = await session.listener.wait_for("tracks", reason="mood")
    assert tracks.emotion == "sad"


async def test_mode_change_brings_a_new_queue(session):
    await session.handle(b'{"type": "set_mode", "mode": "lift"}')
    tracks = await session.listener.wait_for("tracks", reason="mode")
    assert tracks.mode == "lift"


async def test_camera_mood_reaches_the_extension_and_pause_frees_the_camera(session, face_video):
    await session.handle(f'{{"type": "start", "camera": "{face_video}"}}'.encode())
    await session.listener.wait_for("status", state="camera")
    watcher = session.watcher
    emotion = await session.listener.wait_for("emotion", source="camera")
    assert emotion.face and emotion.emotion is not None
    tracks = await session.listener.wait_for("tracks", reason="mood")
    assert tracks.emotion == emotion.emotion
    await session.handle(b'{"type": "pause"}')
    await session.listener.wait_for("status", state="paused")
    assert session.watcher is None and watcher.camera.closed


async def test_youtube_music_down_gives_an_error_with_a_way_to_keep_listening(session, replay):
    for route in list(replay.routes):
        replay.routes[route] = requests.ConnectionError("network unreachable")
    await session.handle(b'{"type": "set_language", "language": "es"}')
    error = await session.listener.wait_for("error", code="music_unavailable")
    assert error.fallback_url.startswith("https://music.youtube.com/search")
    await session.handle(b'{"type": "ping", "id": 5}')
    assert (await session.listener.wait_for("pong")).id == 5


async def test_override_hides_camera_moods_and_clearing_it_restores_the_camera_mood(
    session, face_video
):
    await session.handle(f'{{"type": "start", "camera": "{face_video}"}}'.encode())
    camera = await session.listener.wait_for("emotion", source="camera")
    await session.handle(b'{"type": "override_mood", "emotion": "angry"}')
    await session.listener.wait_for("emotion", source="override", emotion="angry")
    await asyncio.sleep(3)  # the video's faces keep changing meanwhile
    assert not [e for e in session.listener.events if e.type == "emotion"]
    await session.handle(b'{"type": "override_mood", "emotion": null}')
    back = await session.listener.wait_for("emotion", source="camera")
    assert back.emotion is not None and back.confidence > 0
    assert back.emotion == session.camera_mood.emotion
    assert set(back.probabilities) == set(camera.probabilities)


async def test_a_slow_youtube_music_does_not_hold_up_the_next_command(session, replay):
    def slow(seen):
        time.sleep(1.5)
        return requests.ConnectionError("slow network gave up")

    for route in list(replay.routes):
        replay.routes[route] = slow
    started = time.monotonic()
    await session.handle(b'{"type": "set_language", "language": "fr"}')
    await session.handle(b'{"type": "ping", "id": 9}')
    await session.listener.wait_for("pong", id=9)
    assert time.monotonic() - started < 1.0
