"""The music worker: recommendations off the event loop, on one thread of their own."""

from __future__ import annotations

import asyncio
import threading

import pytest
from ytmusic_replay import ManualClock, replay_client

from host.music import MusicWorker, Recommender, UnknownLanguage
from host.music.cache import LISTINGS_TTL_S
from host.music.store import DB_NAME, Store


@pytest.fixture
def clock():
    return ManualClock(1_750_000_000.0)


@pytest.fixture
def worker(tmp_path, replay, clock):
    store = Store(tmp_path / DB_NAME)
    running = MusicWorker(Recommender(store, replay_client(replay), clock=clock))
    yield running
    running.close()
    store.close()


def on_threads(replay, route):
    """Record the thread that serves each request on `route`."""
    names: list[str] = []
    answer = replay.routes[route]

    def serve(seen):
        names.append(threading.current_thread().name)
        return answer

    replay.routes[route] = serve
    return names


async def test_the_event_loop_keeps_running_while_music_is_fetched(worker, replay):
    entered, release = threading.Event(), threading.Event()
    released_while_waiting = []
    answer = replay.routes["search:playlists"]

    def slow_search(seen):
        entered.set()
        released_while_waiting.append(release.wait(timeout=2))
        return answer

    replay.routes["search:playlists"] = slow_search
    pending = asyncio.create_task(worker.recommend("sad", "hi", "match"))
    while not entered.is_set():
        await asyncio.sleep(0.01)
    release.set()  # the loop can only do this if the search is not blocking it
    tracks = await pending
    assert released_while_waiting == [True]
    assert len(tracks) == 10


async def test_all_music_work_runs_on_one_worker_thread(worker, replay):
    names = on_threads(replay, "browse:playlist")
    results = await asyncio.gather(
        worker.recommend("sad", "hi", "match"),
        worker.recommend("happy", "en", "lift"),
        worker.recommend("fear", "ko", "calm"),
    )
    assert all(len(tracks) == 10 for tracks in results)
    assert set(names) == {"moodtune-music"}
    assert threading.current_thread().name not in names


async def test_errors_reach_the_caller(worker):
    with pytest.raises(UnknownLanguage, match="'Klingon'"):
        await worker.recommend("sad", "Klingon", "match")
    assert await worker.recommend("sad", "hi", "match"), "the worker survives an error"


async def test_plays_and_feedback_go_through_the_worker(worker):
    first = await worker.recommend("sad", "hi", "match", count=3)
    await worker.record_play(first[0].video_id)
    await worker.feedback(first[1].video_id, "sad", liked=False)
    later = await worker.recommend("sad", "hi", "match", count=3)
    assert not {t.video_id for t in first} & {t.video_id for t in later}


async def test_plays_and_feedback_are_recorded_while_a_fetch_hangs(worker, replay):
    await worker.recommend("sad", "hi", "match", count=3)
    entered, release = threading.Event(), threading.Event()
    answer = replay.routes["search:playlists"]

    def hung_search(seen):
        entered.set()
        release.wait(timeout=10)
        return answer

    replay.routes["search:playlists"] = hung_search
    fetching = asyncio.create_task(worker.recommend("happy", "en", "match"))
    while not entered.is_set():
        await asyncio.sleep(0.01)
    try:
        await asyncio.wait_for(worker.record_play("abcdefghijk"), timeout=2)
        await asyncio.wait_for(worker.feedback("abcdefghijk", "happy", liked=True), timeout=2)
        assert worker.store.history_since("played", 0.0) == {"abcdefghijk"}
        assert worker.store.scores("happy").tracks == {"abcdefghijk": 1.0}
        assert not fetching.done(), "recorded while the fetch was still hanging"
    finally:
        release.set()
    await fetching


async def test_stale_answers_are_refreshed_after_the_tracks_are_back(worker, replay, clock):
    await worker.recommend("sad", "hi", "match")
    clock.now += LISTINGS_TTL_S + 60
    asked = len(replay.seen)
    await worker.recommend("sad", "hi", "match")
    await worker.recommend("happy", "hi", "match")  # queued behind the refresh
    assert "search:playlists" in replay.routes_seen()[asked:]


async def test_a_closed_worker_refuses_work_and_drops_what_was_queued(worker, replay):
    entered, release = threading.Event(), threading.Event()
    answer = replay.routes["search:playlists"]

    def slow_search(seen):
        entered.set()
        release.wait(timeout=5)
        return answer

    replay.routes["search:playlists"] = slow_search
    running = asyncio.create_task(worker.recommend("sad", "hi", "match"))
    while not entered.is_set():
        await asyncio.sleep(0.01)
    queued = asyncio.create_task(worker.recommend("happy", "hi", "match"))
    await asyncio.sleep(0)
    worker.close()
    release.set()
    assert len(await running) == 10, "the job under way finishes"
    with pytest.raises(asyncio.CancelledError):
        await queued
    with pytest.raises(RuntimeError, match="closed"):
        await worker.recommend("sad", "hi", "match")
