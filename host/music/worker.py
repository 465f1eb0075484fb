"""The recommender on threads of its own, for the host's asyncio session.

A recommendation may wait seconds on the network; on the "moodtune-music" thread it never holds
up the event loop or the camera. One thread, one recommendation at a time. Plays and likes are
written on a second thread, "moodtune-store", so they never queue behind a fetch: the listener's
skip is recorded even while YouTube Music trickles. The store serialises the two threads' use of
its connection under its own lock, held for one statement batch, never across a fetch.

Both threads are daemons: a request stuck on the network cannot keep the host from exiting (a
ThreadPoolExecutor's threads are joined at exit).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial
from typing import Any, TypeVar

from host.music.models import Track
from host.music.recommender import Recommender
from host.music.store import Store

log = logging.getLogger(__name__)

T = TypeVar("T")
_Job = tuple[Callable[[], Any], Future]


class _Lane:
    """One daemon thread running submitted jobs in order."""

    def __init__(self, name: str) -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, work: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        self._jobs.put((work, future))
        return future

    def close(self) -> None:
        """Cancel the jobs not yet started and let the thread end; returns at once."""
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job[1].cancel()
        self._jobs.put(None)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            work, future = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(work())
            except Exception as exc:
                future.set_exception(exc)


class MusicWorker:
    """Runs one Recommender's calls: recommendations on "moodtune-music", plays and feedback
    on "moodtune-store"."""

    def __init__(self, recommender: Recommender) -> None:
        self._recommender = recommender
        self._closed = False
        self._music = _Lane("moodtune-music")
        self._writes = _Lane("moodtune-store")

    @property
    def store(self) -> Store:
        return self._recommender.store

    async def recommend(
        self, emotion: str, language: str, mode: str, count: int = 10
    ) -> list[Track]:
        """Return `Recommender.recommend`'s tracks; its exceptions are raised here.

        Once the tracks are back, cached answers past their time-to-live are refreshed on the
        worker, so the next recommendation finds them fresh.
        """
        tracks = await self._call(
            self._music, partial(self._recommender.recommend, emotion, language, mode, count)
        )
        if not self._closed:
            self._submit(self._music, self._recommender.refresh_due).add_done_callback(_log_failure)
        return tracks

    async def feedback(self, video_id: str, emotion: str, liked: bool) -> None:
        """Record a like or a skip (see `Recommender.feedback`), whatever the network does."""
        await self._call(
            self._writes, partial(self._recommender.feedback, video_id, emotion, liked)
        )

    async def record_play(self, video_id: str) -> None:
        """Record that the player started `video_id`, whatever the network does."""
        await self._call(self._writes, partial(self._recommender.record_play, video_id))

    def close(self) -> None:
        """Cancel the jobs not yet started and let the threads end; returns at once."""
        self._closed = True
        self._music.close()
        self._writes.close()

    async def _call(self, lane: _Lane, work: Callable[[], T]) -> T:
        return await asyncio.wrap_future(self._submit(lane, work))

    def _submit(self, lane: _Lane, work: Callable[[], T]) -> Future[T]:
        if self._closed:
            raise RuntimeError("the music worker is closed")
        return lane.submit(work)


def _log_failure(future: Future) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("music cache refresh failed", exc_info=future.exception())
