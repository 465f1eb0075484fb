"""YouTube Music answers kept in the store, so cached moods play at once and offline.

A cached answer is always served, however old: the listener hears music now. An answer older
than its time-to-live is also put on the due list, and `refresh_due()` (which the music worker
runs after each recommendation) fetches it again. If that refresh fails, the old answer stays
and is served again. Only what was never fetched is fetched on the spot.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, TypeVar

from host.music.errors import FetchFailed
from host.music.models import Category, PlaylistRef, Song
from host.music.store import Store

if TYPE_CHECKING:
    from host.music.client import MusicClient

log = logging.getLogger(__name__)

HOUR = 3600.0
#: Category titles and params change over weeks.
CATEGORIES_TTL_S = 3 * 24 * HOUR
#: Playlist listings, searches, playlist contents and radios change over hours.
LISTINGS_TTL_S = 12 * HOUR

#: Bump when the stored shape of an answer changes, so old rows are simply not found.
PREFIX = "ytm1:"

T = TypeVar("T")


class MusicCache:
    """The client's calls, answered from the store when it has them.

    Without a `client`, one on the network is made on the first fetch: requests and ytmusicapi
    cost the host about 10 MB and a tenth of a second to import, and a mood the store already
    has needs neither.
    """

    def __init__(
        self,
        store: Store,
        client: MusicClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._network = client
        self._clock = clock
        self._due: dict[str, Callable[[], Any]] = {}

    @property
    def _client(self) -> MusicClient:
        if self._network is None:
            from host.music.client import MusicClient

            self._network = MusicClient()
        return self._network

    def categories(self, location: str | None) -> list[Category]:
        """Return the "Moods & genres" categories for `location`."""
        return self._get(
            f"{PREFIX}categories:{location or ''}",
            CATEGORIES_TTL_S,
            lambda: self._client.categories(location),
            lambda rows: [Category(**row) for row in rows],
            _rows,
        )

    def category_playlists(self, location: str | None, category: Category) -> list[PlaylistRef]:
        """Return the playlists listed under `category` for `location`."""
        return self._get(
            f"{PREFIX}category:{location or ''}:{category.params}",
            LISTINGS_TTL_S,
            lambda: self._client.category_playlists(location, category),
            lambda rows: [PlaylistRef(**row) for row in rows],
            _rows,
        )

    def search_playlists(self, location: str | None, query: str) -> list[PlaylistRef]:
        """Return the playlists a search for `query` finds from `location`."""
        return self._get(
            f"{PREFIX}search-playlists:{location or ''}:{query}",
            LISTINGS_TTL_S,
            lambda: self._client.search_playlists(location, query),
            lambda rows: [PlaylistRef(**row) for row in rows],
            _rows,
        )

    def search_songs(self, location: str | None, query: str) -> list[Song]:
        """Return the songs a search for `query` finds from `location`."""
        return self._get(
            f"{PREFIX}search-songs:{location or ''}:{query}",
            LISTINGS_TTL_S,
            lambda: self._client.search_songs(location, query),
            lambda rows: [Song.from_json(row) for row in rows],
            _rows,
        )

    def playlist_songs(self, location: str | None, playlist_id: str) -> list[Song]:
        """Return the songs of a playlist, as listed for `location`."""
        return self._get(
            f"{PREFIX}playlist:{location or ''}:{playlist_id}",
            LISTINGS_TTL_S,
            lambda: self._client.playlist_songs(location, playlist_id),
            lambda rows: [Song.from_json(row) for row in rows],
            _rows,
        )

    def radio(self, location: str | None, video_id: str) -> list[Song]:
        """Return the radio that follows `video_id` in `location`."""
        return self._get(
            f"{PREFIX}radio:{location or ''}:{video_id}",
            LISTINGS_TTL_S,
            lambda: self._client.radio(location, video_id),
            lambda rows: [Song.from_json(row) for row in rows],
            _rows,
        )

    def refresh_due(self) -> int:
        """Fetch again every answer served past its time-to-live; return how many succeeded.

        A failed refresh leaves the old answer in place and is logged, not raised.
        """
        due, self._due = self._due, {}
        failures: list[FetchFailed] = []
        for refresh in due.values():
            try:
                refresh()
            except FetchFailed as exc:
                failures.append(exc)
        if failures:
            log.warning(
                "kept %d cached answer(s) past their time-to-live (%s)", len(failures), failures[0]
            )
        return len(due) - len(failures)

    def _get(
        self,
        key: str,
        ttl_s: float,
        fetch: Callable[[], list[T]],
        decode: Callable[[list[Any]], list[T]],
        encode: Callable[[list[T]], list[Any]],
    ) -> list[T]:
        """Return the cached answer for `key` (queueing a refresh if stale), or fetch it.

        Raises FetchFailed only when nothing is cached and the fetch fails.
        """

        def fetch_and_store() -> list[T]:
            value = fetch()
            self._store.cache_put(key, encode(value), at=self._clock())
            return value

        entry = self._store.cache_get(key)
        if entry is None:
            return fetch_and_store()
        if self._clock() - entry.fetched_at >= ttl_s:
            self._due[key] = fetch_and_store
        return decode(entry.value)


def _rows(items: list[Any]) -> list[dict[str, Any]]:
    return [asdict(item) for item in items]
