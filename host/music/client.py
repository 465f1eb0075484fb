"""Every YouTube Music request moodtune makes, through ytmusicapi, without login.

The client owns its requests session: every request has a connect and a read timeout, an
HTTP error status becomes an exception before ytmusicapi reads the body, and a throttled or
garbled answer (a 429, a 5xx, or an HTML page that ytmusicapi fails to decode as JSON) is retried
a bounded number of times with exponential backoff. When the network itself fails, or YouTube
keeps throttling, the client stops trying for a cool-down period and fails fast instead, so a
run with no network ends in seconds and callers can fall back to their cache.

ytmusicapi's `language` (the `hl` UI language) stays English for every listener: ytmusicapi
parses some results by their English UI words, and only 7 of moodtune's 13 languages are among
its UI languages anyway. What language the music is in comes from the search wording and the
`location` (`gl`), which the caller passes per request.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection

from host.music import parsers
from host.music.errors import FetchFailed
from host.music.models import Category, PlaylistRef, Song

if TYPE_CHECKING:
    from ytmusicapi import YTMusic

log = logging.getLogger(__name__)

#: (connect, read) seconds. Connect fails fast when offline; reads allow a slow page.
TIMEOUT = (3.05, 6.0)
#: Seconds one request may take in all, whatever the server trickles.
DEADLINE_S = 10.0
#: The largest answer read: YouTube Music's pages are well under 1 MB.
MAX_ANSWER_BYTES = 8 * 1024 * 1024
CHUNK_BYTES = 64 * 1024
ATTEMPTS = 3
BACKOFF_S = 0.5
#: After a network failure or exhausted retries, requests fail at once for this long.
COOL_DOWN_S = 30.0
RETRY_STATUSES = {429, 500, 502, 503, 504}
UNREADABLE = "YouTube Music answered something moodtune cannot read"
SEARCH_LIMIT = 20
PLAYLIST_LIMIT = 100
RADIO_LIMIT = 25

T = TypeVar("T")


class AnswerTooLarge(requests.RequestException):
    """The answer is larger than any YouTube Music page should be; it was not read."""


class DeadlinePassed(requests.Timeout):
    """The request had not finished (connect, headers and body) by its overall deadline."""


class TimeoutSession(requests.Session):
    """A requests session whose every request has a connect and read timeout, an overall
    deadline, and a cap on the size of the answer.

    A read timeout is per read: a server that trickles a byte a second never trips it. So each
    request also runs under a watchdog that, at `deadline_s`, shuts the request's sockets down
    under it, which ends whatever read is waiting. The answer is read in chunks and given up
    past `max_answer_bytes`, so a huge one costs a chunk of memory, not its size.
    """

    def __init__(
        self,
        timeout: tuple[float, float] = TIMEOUT,
        deadline_s: float = DEADLINE_S,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
    ) -> None:
        super().__init__()
        self.timeout = timeout
        self.deadline_s = deadline_s
        self.max_answer_bytes = max_answer_bytes
        for prefix in ("http://", "https://"):
            self.mount(prefix, _WatchedAdapter())

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        kwargs["stream"] = True
        watchdog = _Watchdog(self.deadline_s)
        _requests.watchdog = watchdog
        try:
            response = super().request(*args, **kwargs)
            _read_capped(response, self.max_answer_bytes)
            return response
        except Exception as exc:
            unread = exc.response if isinstance(exc, requests.HTTPError) else None
            if unread is not None and unread.raw is not None:
                unread.close()  # its body was not read; free the connection
            if watchdog.expired and not isinstance(exc, AnswerTooLarge):
                raise DeadlinePassed(f"no complete answer within {self.deadline_s:.0f} s") from exc
            raise
        finally:
            watchdog.cancel()
            _requests.watchdog = None


def _read_capped(response: requests.Response, limit: int) -> None:
    """Read the body into `response.content`, refusing one over `limit` bytes."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        response.close()
        raise AnswerTooLarge(f"an answer of {int(declared)} bytes, over the {limit}-byte limit")
    if response.raw is None:  # an adapter that answers from memory (tests) has it already
        if len(response.content) > limit:
            raise AnswerTooLarge(f"an answer over the {limit}-byte limit")
        return
    body = bytearray()
    for chunk in response.iter_content(CHUNK_BYTES):
        body += chunk
        if len(body) > limit:
            # Let go of what was read before raising: the traceback keeps this frame alive
            # for as long as anyone keeps the error (the recommender keeps its failures).
            body.clear()
            response.close()
            raise AnswerTooLarge(f"an answer over the {limit}-byte limit")
    # requests' own place for a body it has read; .content, .text and .json() read it there.
    response._content = bytes(body)


class _Watchdog:
    """Shuts down the sockets of one request's connections when its deadline passes."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._connections: list[HTTPConnection] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, connection: HTTPConnection) -> None:
        with self._lock:
            self._connections.append(connection)
            expired = self.expired
        if expired:
            _shut(connection)

    def cancel(self) -> None:
        self._timer.cancel()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            connections = list(self._connections)
        for connection in connections:
            _shut(connection)


def _shut(connection: HTTPConnection) -> None:
    """End every read on the connection's socket, TLS or not, from another thread."""
    # The TCP socket, unless TLS took its descriptor over (then the TLS socket has it).
    candidates = (getattr(connection, "moodtune_socket", None), connection.sock)
    sock = next((s for s in candidates if s is not None and s.fileno() >= 0), None)
    if sock is None:
        return
    try:
        # Through a duplicate of the descriptor: shutting down the TLS object itself would
        # unwrap it under the reading thread.
        with socket.fromfd(sock.fileno(), sock.family, sock.type) as twin:
            twin.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed: nothing is waiting on it


#: The watchdog of the request the current thread is making, if any.
_requests = threading.local()


def _watch(connection: HTTPConnection) -> None:
    watchdog = getattr(_requests, "watchdog", None)
    if watchdog is not None:
        watchdog.watch(connection)


class _Watched:
    """Mixed into urllib3's connections: each one the current request uses is watched."""

    sock: socket.socket | None

    def _new_conn(self) -> socket.socket:
        self.moodtune_socket = super()._new_conn()  # type: ignore[misc]  # the TCP socket
        return self.moodtune_socket

    def connect(self) -> None:
        _watch(self)  # type: ignore[arg-type]
        super().connect()  # type: ignore[misc]

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self)  # type: ignore[arg-type]
        super().request(*args, **kwargs)  # type: ignore[misc]


class _WatchedHTTPConnection(_Watched, urllib3.connection.HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, urllib3.connection.HTTPSConnection):
    pass


class _WatchedHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class _WatchedAdapter(HTTPAdapter):
    """requests' adapter, with connections the request's watchdog can reach (proxied too)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        manager.pool_classes_by_scheme = _WATCHED_POOLS
        return manager


class MusicClient:
    """YouTube Music, asked through ytmusicapi with moodtune's session and retry policy.

    `session` defaults to a `TimeoutSession`; tests pass one with a replaying adapter mounted.
    `sleep` and `clock` are injectable so tests neither wait nor depend on the wall clock.
    """

    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        attempts: int = ATTEMPTS,
        backoff_s: float = BACKOFF_S,
        cool_down_s: float = COOL_DOWN_S,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session = session if session is not None else TimeoutSession()
        self.session.hooks["response"].append(_raise_for_status)
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._cool_down_s = cool_down_s
        self._sleep = sleep
        self._clock = clock
        self._unreachable_until = 0.0
        self._resting_because = (True, False)  # (offline, unreadable) of the cool-down
        self._apis: dict[str, YTMusic] = {}

    def categories(self, location: str | None) -> list[Category]:
        """Return today's "Moods & genres" categories for `location`."""
        return self._call(
            "mood categories", lambda: parsers.categories(self._api(location).get_mood_categories())
        )

    def category_playlists(self, location: str | None, category: Category) -> list[PlaylistRef]:
        """Return the playlists YouTube Music lists under `category` for `location`."""
        return self._call(
            f"playlists of category {category.title!r}",
            lambda: parsers.playlists(self._api(location).get_mood_playlists(category.params)),
        )

    def search_playlists(self, location: str | None, query: str) -> list[PlaylistRef]:
        """Return playlists found by searching `query` from `location`."""
        return self._call(
            f"playlist search {query!r}",
            lambda: parsers.playlists(
                self._api(location).search(query, filter="playlists", limit=SEARCH_LIMIT)
            ),
        )

    def search_songs(self, location: str | None, query: str) -> list[Song]:
        """Return songs found by searching `query` from `location`."""
        return self._call(
            f"song search {query!r}",
            lambda: parsers.songs(
                self._api(location).search(query, filter="songs", limit=SEARCH_LIMIT)
            ),
        )

    def playlist_songs(self, location: str | None, playlist_id: str) -> list[Song]:
        """Return the songs of a playlist (its first `PLAYLIST_LIMIT`) playable in `location`."""
        return self._call(
            f"playlist {playlist_id}",
            lambda: parsers.songs(
                self._api(location).get_playlist(playlist_id, limit=PLAYLIST_LIMIT)["tracks"]
            ),
        )

    def radio(self, location: str | None, video_id: str) -> list[Song]:
        """Return the radio YouTube Music plays after `video_id` in `location`, minus that song."""

        def fetch() -> list[Song]:
            api = self._api(location)
            tracks = api.get_watch_playlist(video_id, radio=True, limit=RADIO_LIMIT)["tracks"]
            if not isinstance(tracks, list):
                raise TypeError(f"the radio's tracks are a {type(tracks).__name__}, not a list")
            return [song for song in parsers.songs(tracks) if song.video_id != video_id]

        return self._call(
            f"radio after {video_id}",
            fetch,
        )

    def _api(self, location: str | None) -> YTMusic:
        """Return the ytmusicapi client for `location`, all sharing this client's session."""
        key = location or ""
        if key not in self._apis:
            # Imported here: ytmusicapi takes ~50 ms to import, which the host's start-up
            # should not pay before the first recommendation is asked for.
            from ytmusicapi import YTMusic

            self._apis[key] = YTMusic(requests_session=self.session, location=key, language="en")
        return self._apis[key]

    def _call(self, what: str, request: Callable[[], T]) -> T:
        """Run one ytmusicapi request under the retry and cool-down policy.

        Returns what `request` returns; raises FetchFailed with a one-line reason.
        """
        now = self._clock()
        if now < self._unreachable_until:
            wait = self._unreachable_until - now
            offline, unreadable = self._resting_because
            state = "unreachable" if offline else "failing"
            raise FetchFailed(
                f"{what}: YouTube Music {state}, not retrying for {wait:.0f} s",
                offline=offline,
                unreadable=unreadable,
            )
        for attempt in range(1, self._attempts + 1):
            try:
                return request()
            except Exception as exc:
                if not isinstance(exc, _KNOWN_FAILURES):
                    log.warning("%s: an answer ytmusicapi could not read", what, exc_info=True)
                # The error outlives this call (the recommender keeps its failures), and its
                # traceback's frames hold the response and what was read of it: cut them
                # loose, or that memory waits for the cyclic garbage collector.
                exc.__traceback__ = None
                failure = exc
            reason = self._retry_reason(what, failure)
            if attempt < self._attempts:
                delay = self._backoff_s * 2 ** (attempt - 1)
                log.info("%s: %s; retrying in %.1f s", what, reason, delay)
                self._sleep(delay)
        unreadable = "not JSON" in reason
        self._cool_down(unreadable=unreadable)
        message = f"{what}: YouTube Music {reason}, gave up after {self._attempts} tries"
        raise FetchFailed(message, unreadable=unreadable)

    def _retry_reason(self, what: str, failure: Exception) -> str:
        """Why `failure` is worth another try; raises FetchFailed when it is not."""
        if isinstance(failure, requests.HTTPError):
            response = failure.response
            status = response.status_code if response is not None else None
            if status not in RETRY_STATUSES:
                raise FetchFailed(f"{what}: YouTube Music answered HTTP {status}") from failure
            return f"throttled or failing (HTTP {status})"
        if isinstance(failure, json.JSONDecodeError):
            # ytmusicapi json-decodes every body; an HTML error or consent page lands here.
            return f"answered a page that is not JSON ({failure.msg})"
        if isinstance(failure, AnswerTooLarge):
            raise FetchFailed(f"{what}: {UNREADABLE} ({failure})", unreadable=True) from failure
        if isinstance(failure, requests.RequestException):
            self._cool_down(offline=True)
            detail = str(failure) if isinstance(failure, DeadlinePassed) else type(failure).__name__
            raise FetchFailed(
                f"{what}: cannot reach YouTube Music ({detail})", offline=True
            ) from failure
        # ytmusicapi found the page in a shape it does not know (layout drift).
        raise FetchFailed(
            f"{what}: {UNREADABLE} (unexpected answer: {failure!r})", unreadable=True
        ) from failure

    def _cool_down(self, offline: bool = False, unreadable: bool = False) -> None:
        """Fail fast for a while, saying the same of the rest as of the failure that began it."""
        self._unreachable_until = self._clock() + self._cool_down_s
        self._resting_because = (offline, unreadable)


#: What `_retry_reason` knows by type; anything else is an answer ytmusicapi could not read.
_KNOWN_FAILURES = (requests.RequestException, json.JSONDecodeError)


def _raise_for_status(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """Session hook: turn an HTTP error status into requests.HTTPError, keeping the status."""
    response.raise_for_status()
