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
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import requests

from host.music import parsers
from host.music.errors import FetchFailed
from host.music.models import Category, PlaylistRef, Song

if TYPE_CHECKING:
    from ytmusicapi import YTMusic

log = logging.getLogger(__name__)

#: (connect, read) seconds. Connect fails fast when offline; reads allow a slow page.
TIMEOUT = (3.05, 6.0)
ATTEMPTS = 3
BACKOFF_S = 0.5
#: After a network failure or exhausted retries, requests fail at once for this long.
COOL_DOWN_S = 30.0
RETRY_STATUSES = {429, 500, 502, 503, 504}
SEARCH_LIMIT = 20
PLAYLIST_LIMIT = 100
RADIO_LIMIT = 25

T = TypeVar("T")


class TimeoutSession(requests.Session):
    """A requests session that gives every request a timeout unless the caller set one."""

    def __init__(self, timeout: tuple[float, float] = TIMEOUT) -> None:
        super().__init__()
        self.timeout = timeout

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return super().request(*args, **kwargs)


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
            raise FetchFailed(
                f"{what}: YouTube Music unreachable, not retrying for {wait:.0f} s", offline=True
            )
        for attempt in range(1, self._attempts + 1):
            try:
                return request()
            except requests.HTTPError as exc:
                status = exc.response.status_code if exc.response is not None else None
                if status not in RETRY_STATUSES:
                    raise FetchFailed(f"{what}: YouTube Music answered HTTP {status}") from exc
                reason = f"throttled or failing (HTTP {status})"
            except json.JSONDecodeError as exc:
                # ytmusicapi json-decodes every body; an HTML error or consent page lands here.
                reason = f"answered with a page that is not JSON ({exc.msg})"
            except requests.RequestException as exc:
                self._cool_down()
                raise FetchFailed(
                    f"{what}: cannot reach YouTube Music ({type(exc).__name__})", offline=True
                ) from exc
            except (KeyError, IndexError, TypeError, AttributeError) as exc:
                # ytmusicapi found the page in a shape it does not know (layout drift).
                raise FetchFailed(f"{what}: unexpected answer ({exc!r})") from exc
            if attempt < self._attempts:
                delay = self._backoff_s * 2 ** (attempt - 1)
                log.info("%s: %s; retrying in %.1f s", what, reason, delay)
                self._sleep(delay)
        self._cool_down()
        raise FetchFailed(f"{what}: YouTube Music {reason}, gave up after {self._attempts} tries")

    def _cool_down(self) -> None:
        self._unreachable_until = self._clock() + self._cool_down_s


def _raise_for_status(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """Session hook: turn an HTTP error status into requests.HTTPError, keeping the status."""
    response.raise_for_status()
