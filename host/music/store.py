"""moodtune's local memory: one SQLite file in the user's data directory.

It holds the YouTube Music cache (JSON values with the time they were fetched; whoever reads
decides what is fresh), the play history, which artists a track has, and like/skip scores per
emotion. Every write is one transaction. A file SQLite cannot read is moved aside and a fresh
one is built in its place, with a warning on the log: losing the cache must never stop the
music.

The store is used from one thread at a time (the music worker), but it may be opened on
another, so the connection is shared under a lock.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from host.paths import data_dir

log = logging.getLogger(__name__)

DB_NAME = "moodtune.db"
#: Rows older than this are dropped when the store opens; far longer than any repeat window.
KEEP_S = 90 * 86400
#: Like/skip scores saturate here, so old habits can still be unlearned.
SCORE_LIMIT = 5.0

HistoryEvent = Literal["offered", "played"]
T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cache (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    fetched_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
    video_id TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('offered', 'played')),
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_time ON history (event, at);
CREATE TABLE IF NOT EXISTS track_artists (
    video_id TEXT PRIMARY KEY,
    artists TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS track_scores (
    video_id TEXT NOT NULL,
    emotion TEXT NOT NULL,
    score REAL NOT NULL,
    PRIMARY KEY (video_id, emotion)
);
CREATE TABLE IF NOT EXISTS artist_scores (
    artist TEXT NOT NULL,
    emotion TEXT NOT NULL,
    score REAL NOT NULL,
    PRIMARY KEY (artist, emotion)
);
"""


@dataclass(frozen=True)
class CacheEntry:
    """A cached value and the wall-clock time (epoch seconds) it was fetched."""

    value: Any
    fetched_at: float


@dataclass(frozen=True)
class Scores:
    """Like/skip scores for one emotion: by video id and by artist name."""

    tracks: dict[str, float]
    artists: dict[str, float]


class Store:
    """The SQLite store. `path` defaults to `moodtune.db` in `data_dir()`."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else data_dir() / DB_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._conn = self._connect()
        except sqlite3.DatabaseError as exc:
            if not _is_corruption(exc):
                raise
            self._move_aside(exc)
            self._conn = self._connect()

    def close(self) -> None:
        """Close the database file."""
        with self._lock:
            self._conn.close()

    # cache

    def cache_get(self, key: str) -> CacheEntry | None:
        """Return the cached value for `key`, however old, or None if there is none."""
        row = self._run(
            lambda c: c.execute(
                "SELECT value, fetched_at FROM cache WHERE key = ?", (key,)
            ).fetchone()
        )
        return None if row is None else CacheEntry(json.loads(row[0]), row[1])

    def cache_put(self, key: str, value: Any, at: float | None = None) -> None:
        """Store a JSON-serialisable value under `key`, fetched at `at` (default: now)."""
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        fetched_at = time.time() if at is None else at
        self._write(
            lambda c: c.execute(
                "INSERT OR REPLACE INTO cache (key, value, fetched_at) VALUES (?, ?, ?)",
                (key, text, fetched_at),
            )
        )

    # history

    def add_history(
        self, video_ids: Iterable[str], event: HistoryEvent, at: float | None = None
    ) -> None:
        """Record that these tracks were offered to the player or played, at `at`."""
        when = time.time() if at is None else at
        rows = [(video_id, event, when) for video_id in video_ids]
        self._write(
            lambda c: c.executemany(
                "INSERT INTO history (video_id, event, at) VALUES (?, ?, ?)", rows
            )
        )

    def history_since(self, event: HistoryEvent, since: float) -> set[str]:
        """Return the video ids with an `event` after `since`."""
        rows = self._run(
            lambda c: c.execute(
                "SELECT DISTINCT video_id FROM history WHERE event = ? AND at > ?",
                (event, since),
            ).fetchall()
        )
        return {row[0] for row in rows}

    # artists and feedback

    def remember_artists(self, artists_by_video: Mapping[str, Sequence[str]]) -> None:
        """Remember each track's artists, so feedback on a video id can reach its artists."""
        rows = [
            (video_id, json.dumps(list(artists), ensure_ascii=False))
            for video_id, artists in artists_by_video.items()
        ]
        self._write(
            lambda c: c.executemany(
                "INSERT OR REPLACE INTO track_artists (video_id, artists) VALUES (?, ?)", rows
            )
        )

    def add_feedback(
        self, video_id: str, emotion: str, track_delta: float, artist_delta: float
    ) -> None:
        """Add to the track's score for `emotion` and to each of its known artists' scores."""

        def work(c: sqlite3.Connection) -> None:
            _bump(c, "track_scores", "video_id", video_id, emotion, track_delta)
            row = c.execute(
                "SELECT artists FROM track_artists WHERE video_id = ?", (video_id,)
            ).fetchone()
            for artist in json.loads(row[0]) if row else []:
                _bump(c, "artist_scores", "artist", artist, emotion, artist_delta)

        self._write(work)

    def scores(self, emotion: str) -> Scores:
        """Return all like/skip scores recorded for `emotion`."""

        def work(c: sqlite3.Connection) -> Scores:
            tracks = c.execute(
                "SELECT video_id, score FROM track_scores WHERE emotion = ?", (emotion,)
            ).fetchall()
            artists = c.execute(
                "SELECT artist, score FROM artist_scores WHERE emotion = ?", (emotion,)
            ).fetchall()
            return Scores(dict(tracks), dict(artists))

        return self._run(work)

    # plumbing

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, timeout=5.0)
        try:
            verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                raise sqlite3.DatabaseError(f"integrity check failed: {verdict}")
            # WAL with synchronous=NORMAL keeps commits off fsync: a cached recommendation
            # writes its history row inside the 50 ms budget.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
            cutoff = time.time() - KEEP_S
            with conn:
                conn.execute("DELETE FROM history WHERE at < ?", (cutoff,))
                conn.execute("DELETE FROM cache WHERE fetched_at < ?", (cutoff,))
        except BaseException:
            conn.close()
            raise
        return conn

    def _move_aside(self, reason: sqlite3.DatabaseError) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            part = self.path.with_name(self.path.name + suffix)
            if part.exists():
                part.replace(aside.with_name(aside.name + suffix))
        log.warning(
            "moodtune store %s could not be read (%s); moved it to %s and started a fresh one",
            self.path,
            reason,
            aside,
        )

    def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` on the connection; if the file turns out corrupt, rebuild and rerun."""
        with self._lock:
            try:
                return work(self._conn)
            except sqlite3.DatabaseError as exc:
                if not _is_corruption(exc):
                    raise
                self._conn.close()
                self._move_aside(exc)
                self._conn = self._connect()
                return work(self._conn)

    def _write(self, work: Callable[[sqlite3.Connection], Any]) -> None:
        """Run `work` as one transaction: all of it is committed, or none of it."""

        def transaction(c: sqlite3.Connection) -> None:
            with c:
                work(c)

        self._run(transaction)


def _bump(
    c: sqlite3.Connection, table: str, column: str, name: str, emotion: str, delta: float
) -> None:
    # table and column come from the two call sites above, never from input.
    c.execute(
        f"INSERT INTO {table} ({column}, emotion, score) VALUES (?, ?, max(?, min(?, ?))) "
        f"ON CONFLICT ({column}, emotion) DO UPDATE SET score = max(?, min(?, score + ?))",
        (name, emotion, -SCORE_LIMIT, SCORE_LIMIT, delta, -SCORE_LIMIT, SCORE_LIMIT, delta),
    )


def _is_corruption(exc: sqlite3.DatabaseError) -> bool:
    # sqlite3 raises the base class itself for SQLITE_CORRUPT and SQLITE_NOTADB; its subclasses
    # (OperationalError for a locked file, IntegrityError, ...) are not a broken file.
    return type(exc) is sqlite3.DatabaseError
