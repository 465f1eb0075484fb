"""moodtune's local memory: one SQLite file in the user's data directory.

It holds the YouTube Music cache (JSON values with the time they were fetched; whoever reads
decides what is fresh), the play history, which artists a track has, like/skip scores per
emotion and the tracks the listener's player could not play; and, about the listener, their
face calibration and their mood journal (settled moods and the tracks played for them, kept for
the retention they choose; nothing of it leaves the machine, and `forget_listener` deletes it
for real). People who share a computer share this file, one Chrome profile each: the calibration,
the journal and its retention are kept per profile, and each profile reads and deletes only its
own (play history and likes are the computer's). Every write is one transaction. A file SQLite
cannot read is moved aside and a fresh one is built in its place, with a warning on the log:
losing the cache must never stop the music. A file from an older moodtune is migrated in place,
its rows kept. A file that cannot be opened or written at all (a folder in its place, a
read-only or full disk, another program holding its lock) degrades the store to memory: what the
file still held is copied in when it can be read, the rest of the session works from memory, and
`problem` (and the `on_problem` listener, once) says what happened.

The music worker and the session (for the calibration and the journal) use it from their own
threads, so the one connection is shared under a lock.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from host.paths import data_dir
from host.vocabulary import Emotion

log = logging.getLogger(__name__)

DB_NAME = "moodtune.db"
#: Rows older than this are dropped when the store opens; far longer than any repeat window.
KEEP_S = 90 * 86400
#: Like/skip scores saturate here, so old habits can still be unlearned.
SCORE_LIMIT = 5.0

#: Before the calibration and the journal were kept per browser profile, the one listener's were
#: stored under this name (an old file's journal rows are labelled with it when it is migrated).
#: The first profile to connect adopts them (`adopt_listener`).
OLD_SHARED_PROFILE = "default"

#: How long the mood journal keeps its rows unless the listener chooses otherwise.
JOURNAL_RETENTION_DAYS = 30
#: The settings key of a profile's journal retention is this and the profile's name.
_RETENTION_KEY = "journal_retention_days:"
#: Where the one retention of a file from before profiles was kept.
_OLD_RETENTION_KEY = "journal_retention_days"
JOURNAL_RETENTION_RANGE = (1, 365)
#: The most journal rows one query answers with (a week of moods is a few hundred).
JOURNAL_ROWS_LIMIT = 5000
JOURNAL_CSV_COLUMNS = (
    "kind",
    "emotion",
    "confidence",
    "source",
    "start",
    "end",
    "title",
    "artists",
    "video_id",
)

#: Seconds to wait for another program's lock: briefly while opening, longer for a write.
OPEN_BUSY_S = 1.0
WRITE_BUSY_S = 5.0
#: Seconds at most for copying what a failing file still holds into memory.
COPY_S = 1.0
#: Longest pause between tries at switching a file to WAL that another host is switching too.
WAL_RETRY_S = 0.02

HistoryEvent = Literal["offered", "played"]
JournalSource = Literal["camera", "hand"]
T = TypeVar("T")

_JOURNAL_MOODS = """(
    id INTEGER PRIMARY KEY,
    profile TEXT NOT NULL,
    emotion TEXT NOT NULL,
    confidence REAL NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('camera', 'hand')),
    started_at REAL NOT NULL,
    ended_at REAL NOT NULL
)"""
_JOURNAL_TRACKS = """(
    profile TEXT NOT NULL,
    video_id TEXT NOT NULL,
    title TEXT NOT NULL,
    artists TEXT NOT NULL,
    emotion TEXT NOT NULL,
    played_at REAL NOT NULL
)"""
_SCHEMA = f"""
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
CREATE TABLE IF NOT EXISTS unplayable (
    video_id TEXT PRIMARY KEY,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS artist_scores (
    artist TEXT NOT NULL,
    emotion TEXT NOT NULL,
    score REAL NOT NULL,
    PRIMARY KEY (artist, emotion)
);
CREATE TABLE IF NOT EXISTS calibration (
    profile TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    made_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS journal_moods {_JOURNAL_MOODS};
CREATE INDEX IF NOT EXISTS journal_moods_by_profile ON journal_moods (profile, started_at);
CREATE TABLE IF NOT EXISTS journal_tracks {_JOURNAL_TRACKS};
CREATE INDEX IF NOT EXISTS journal_tracks_by_profile ON journal_tracks (profile, played_at);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""
#: Each table's columns, to tell moodtune's file from another layout at the same path.
_LAYOUT = {
    "cache": {"key", "value", "fetched_at"},
    "history": {"video_id", "event", "at"},
    "track_artists": {"video_id", "artists"},
    "track_scores": {"video_id", "emotion", "score"},
    "artist_scores": {"artist", "emotion", "score"},
    "calibration": {"profile", "value", "made_at"},
    "journal_moods": {"id", "profile", "emotion", "confidence", "source", "started_at", "ended_at"},
    "journal_tracks": {"profile", "video_id", "title", "artists", "emotion", "played_at"},
    "settings": {"key", "value"},
    "unplayable": {"video_id", "at"},
}
#: The journal tables of a file from before profiles (moodtune 0.1.0 until profiles), with the
#: columns they had then: `_migrate` rebuilds them with each row's profile.
_OLD_LAYOUT = {
    "journal_moods": {"id", "emotion", "confidence", "source", "started_at", "ended_at"},
    "journal_tracks": {"video_id", "title", "artists", "emotion", "played_at"},
}
# What `forget_listener` deletes besides the profile's journal and calibration: what the listener
# played and liked. Those are the computer's, not one profile's (the recommender learns from
# them for everyone), and the listener's part in them cannot be told apart, so they go whole.
# The music cache and the artists of tracks are YouTube Music's public listings and stay.
_SHARED_LISTENING_TABLES = (
    "history", "track_scores", "artist_scores",
    "unplayable",  # which tracks their player reached, so part of what they listened to
)  # fmt: skip


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


@dataclass(frozen=True)
class MoodEntry:
    """A settled mood in the journal; while it lasts, `ended_at` is when it was last seen."""

    emotion: Emotion
    confidence: float
    source: JournalSource
    started_at: float
    ended_at: float


@dataclass(frozen=True)
class PlayedTrack:
    """A track the player started, with the mood it was played for."""

    video_id: str
    title: str
    artists: tuple[str, ...]
    emotion: Emotion
    at: float


@dataclass(frozen=True)
class Journal:
    """The journal between two times, oldest first (at most JOURNAL_ROWS_LIMIT rows of each)."""

    moods: list[MoodEntry]
    tracks: list[PlayedTrack]
    retention_days: int


class Store:
    """The SQLite store. `path` defaults to `moodtune.db` in `data_dir()`."""

    def __init__(self, path: Path | None = None) -> None:
        self._lock = threading.Lock()
        #: Why the store works from memory, or None while it uses its file.
        self.problem: str | None = None
        #: Called once, on whichever thread found it, when the store falls back to memory.
        self.on_problem: Callable[[str], None] | None = None
        try:
            self.path = Path(path) if path is not None else data_dir() / DB_NAME
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = self._open_file()
        except (sqlite3.Error, OSError) as exc:
            self.path = Path(path) if path is not None else Path(DB_NAME)
            self._conn = self._degrade(exc, None)

    def _open_file(self) -> sqlite3.Connection:
        try:
            return self._connect()
        except sqlite3.DatabaseError as exc:
            if not _is_corruption(exc):
                raise
            self._move_aside(exc)
            return self._connect()

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

    def mark_unplayable(self, video_id: str, at: float | None = None) -> None:
        """Record that the player could not play `video_id` (unavailable where the listener is)."""
        when = time.time() if at is None else at
        self._write(
            lambda c: c.execute(
                "INSERT OR REPLACE INTO unplayable (video_id, at) VALUES (?, ?)", (video_id, when)
            )
        )

    def unplayable(self) -> set[str]:
        """Return the video ids the player could not play (for the last KEEP_S)."""
        rows = self._run(lambda c: c.execute("SELECT video_id FROM unplayable").fetchall())
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

    # calibration: the listener's resting face, per profile (host/vision/calibration.py)

    def save_calibration(self, profile: str, value: dict, made_at: float) -> None:
        text = json.dumps(value, separators=(",", ":"))
        self._write(
            lambda c: c.execute(
                "INSERT OR REPLACE INTO calibration (profile, value, made_at) VALUES (?, ?, ?)",
                (profile, text, made_at),
            )
        )

    def calibration(self, profile: str) -> dict | None:
        """The saved calibration's JSON for `profile`, or None."""
        row = self._run(
            lambda c: c.execute(
                "SELECT value FROM calibration WHERE profile = ?", (profile,)
            ).fetchone()
        )
        return None if row is None else json.loads(row[0])

    def forget_calibration(self, profile: str) -> None:
        self._write(lambda c: c.execute("DELETE FROM calibration WHERE profile = ?", (profile,)))

    def adopt_listener(self, old: str, new: str) -> None:
        """Give `new` what `old` holds about the listener: its calibration (unless `new` made
        one of its own), its journal and the journal's retention (the journal goes with the
        calibration, so one person's history and resting face stay together; with no old
        calibration, the journal goes to the first to ask). One transaction that takes the write
        lock first, so of two hosts adopting at once (two browser profiles starting), one gets
        everything and the other nothing."""

        def work(c: sqlite3.Connection) -> None:
            c.execute("BEGIN IMMEDIATE")
            c.execute(
                "UPDATE calibration SET profile = ? WHERE profile = ? "
                "AND NOT EXISTS (SELECT 1 FROM calibration WHERE profile = ?)",
                (new, old, new),
            )
            if c.execute("SELECT 1 FROM calibration WHERE profile = ?", (old,)).fetchone():
                return  # `new` has its own: the old listener's things wait for another profile
            for table in ("journal_moods", "journal_tracks"):  # names, never input
                c.execute(f"UPDATE {table} SET profile = ? WHERE profile = ?", (new, old))
            # A retention `new` chose itself wins over the old one.
            c.execute(
                "UPDATE OR IGNORE settings SET key = ? WHERE key = ?",
                (_RETENTION_KEY + new, _RETENTION_KEY + old),
            )
            c.execute("DELETE FROM settings WHERE key = ?", (_RETENTION_KEY + old,))

        self._write(work)

    # journal: settled moods and the tracks played for them, per profile, kept for the
    # retention that profile chose

    def start_mood(
        self,
        profile: str,
        emotion: str,
        confidence: float,
        source: JournalSource,
        at: float | None = None,
    ) -> int:
        """A new settled mood in `profile`'s journal, lasting no time yet; its id, for
        `extend_mood`."""
        when = time.time() if at is None else at

        def work(c: sqlite3.Connection) -> int:
            with c:
                cursor = c.execute(
                    "INSERT INTO journal_moods "
                    "(profile, emotion, confidence, source, started_at, ended_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (profile, emotion, confidence, source, when, when),
                )
                _prune_journal(c, time.time(), profile)
            assert cursor.lastrowid is not None
            return cursor.lastrowid

        return self._run(work)

    def extend_mood(self, mood_id: int, at: float | None = None) -> None:
        """The mood `mood_id` lasted until `at` (default: now)."""
        when = time.time() if at is None else at
        self._write(
            lambda c: c.execute(
                "UPDATE journal_moods SET ended_at = max(ended_at, ?) WHERE id = ?",
                (when, mood_id),
            )
        )

    def add_played(
        self,
        profile: str,
        video_id: str,
        title: str,
        artists: Sequence[str],
        emotion: str,
        at: float | None = None,
    ) -> None:
        when = time.time() if at is None else at
        artists_text = json.dumps(list(artists), ensure_ascii=False)

        def work(c: sqlite3.Connection) -> None:
            c.execute(
                "INSERT INTO journal_tracks "
                "(profile, video_id, title, artists, emotion, played_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (profile, video_id, title, artists_text, emotion, when),
            )
            _prune_journal(c, time.time(), profile)

        self._write(work)

    def journal(self, profile: str, since: float, until: float) -> Journal:
        """`profile`'s moods overlapping [since, until] and the tracks played in it."""

        def work(c: sqlite3.Connection) -> Journal:
            moods = c.execute(
                "SELECT emotion, confidence, source, started_at, ended_at FROM journal_moods "
                "WHERE profile = ? AND started_at <= ? AND ended_at >= ? "
                "ORDER BY started_at LIMIT ?",
                (profile, until, since, JOURNAL_ROWS_LIMIT),
            ).fetchall()
            tracks = c.execute(
                "SELECT video_id, title, artists, emotion, played_at FROM journal_tracks "
                "WHERE profile = ? AND played_at BETWEEN ? AND ? ORDER BY played_at LIMIT ?",
                (profile, since, until, JOURNAL_ROWS_LIMIT),
            ).fetchall()
            return Journal(
                [MoodEntry(*row) for row in moods],
                [PlayedTrack(v, t, tuple(json.loads(a)), e, at) for v, t, a, e, at in tracks],
                _retention_days(c, profile),
            )

        return self._run(work)

    def journal_csv(self, profile: str) -> str:
        """`profile`'s whole journal as CSV (one row per mood and per track, in time order)."""

        def work(c: sqlite3.Connection) -> str:
            timed = [
                (start, ("mood", e, f"{conf:.3f}", s, _iso(start), _iso(end), "", "", ""))
                for e, conf, s, start, end in c.execute(
                    "SELECT emotion, confidence, source, started_at, ended_at FROM journal_moods "
                    "WHERE profile = ?",
                    (profile,),
                )
            ] + [
                (at, ("track", e, "", "", _iso(at), "", t, "; ".join(json.loads(a)), v))
                for v, t, a, e, at in c.execute(
                    "SELECT video_id, title, artists, emotion, played_at FROM journal_tracks "
                    "WHERE profile = ?",
                    (profile,),
                )
            ]
            timed.sort(key=lambda pair: pair[0])
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(JOURNAL_CSV_COLUMNS)
            writer.writerows(row for _, row in timed)
            return out.getvalue()

        return self._run(work)

    def set_journal_retention(self, profile: str, days: int) -> None:
        low, high = JOURNAL_RETENTION_RANGE
        if not low <= days <= high:
            raise ValueError(f"the journal keeps between {low} and {high} days, not {days}")

        def work(c: sqlite3.Connection) -> None:
            c.execute(
                "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)",
                (_RETENTION_KEY + profile, str(days)),
            )
            _prune_journal(c, time.time(), profile)

        self._write(work)

    def journal_retention_days(self, profile: str) -> int:
        return self._run(lambda c: _retention_days(c, profile))

    def forget_listener(self, profile: str) -> None:
        """Delete `profile`'s journal and calibration, and the computer's play history and
        likes; then rewrite the file so the deleted rows are gone from it (and from its
        write-ahead log), not just unlinked. Other profiles' journals and calibrations stay."""

        def work(c: sqlite3.Connection) -> None:
            with c:
                for table in ("journal_moods", "journal_tracks", "calibration"):
                    c.execute(f"DELETE FROM {table} WHERE profile = ?", (profile,))
                for table in _SHARED_LISTENING_TABLES:
                    c.execute(f"DELETE FROM {table}")  # names from the tuple above, not input
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            c.execute("VACUUM")
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")

        self._run(work)

    # plumbing

    def _connect(self) -> sqlite3.Connection:
        # A short busy timeout while opening, so a file another program holds delays the
        # host's hello by a second at most; then the usual one for writes.
        conn = sqlite3.connect(self.path, check_same_thread=False, timeout=OPEN_BUSY_S)
        try:
            verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                raise sqlite3.DatabaseError(f"integrity check failed: {verdict}")
            _check_layout(conn)
            # WAL with synchronous=NORMAL keeps commits off fsync: a cached recommendation
            # writes its history row inside the 50 ms budget.
            try:
                _use_wal(conn)
                conn.execute("PRAGMA synchronous=NORMAL")
                _migrate(conn)
                conn.executescript(_SCHEMA)
                cutoff = time.time() - KEEP_S
                with conn:
                    conn.execute("DELETE FROM history WHERE at < ?", (cutoff,))
                    conn.execute("DELETE FROM cache WHERE fetched_at < ?", (cutoff,))
                    # A track blocked in a region may come back; after this long it is tried
                    # again.
                    conn.execute("DELETE FROM unplayable WHERE at < ?", (cutoff,))
                    _prune_journal(conn, time.time())
            except sqlite3.OperationalError as exc:
                # A file still to be migrated cannot be used as it is: from memory, then.
                if "locked" not in str(exc) or not _is_current(conn):
                    raise _Unwritable(conn, exc) from exc
                # Another program is writing right now: tidying up can wait for a later start.
                log.info("moodtune store %s is busy; old rows are kept for now", self.path)
            conn.execute(f"PRAGMA busy_timeout = {int(WRITE_BUSY_S * 1000)}")
        except _Unwritable:
            raise
        except BaseException:
            conn.close()
            raise
        return conn

    def _degrade(
        self, reason: BaseException, readable: sqlite3.Connection | None
    ) -> sqlite3.Connection:
        """A memory database, with what `readable` still holds; notes and reports `reason`."""
        if isinstance(reason, _Unwritable):
            readable, reason = reason.conn, reason.reason
        memory = sqlite3.connect(":memory:", check_same_thread=False)
        copied = False
        if readable is not None:
            try:
                readable.execute(f"PRAGMA busy_timeout = {int(COPY_S * 1000)}")
                readable.execute("SELECT count(*) FROM sqlite_master").fetchone()
                readable.backup(memory, progress=_within(COPY_S))
                _migrate(memory)
                copied = _has_schema(memory)
            except sqlite3.Error:
                pass
            with contextlib.suppress(sqlite3.Error):
                readable.close()
        if not copied:
            memory.close()
            memory = sqlite3.connect(":memory:", check_same_thread=False)
        memory.executescript(_SCHEMA)
        self.problem = (
            f"moodtune cannot use its memory file {self.path} ({_reason_words(reason)}). Likes, "
            "skips and play history are kept only until moodtune stops. Free some disk space or "
            "make the file writable (or delete it), then restart the browser."
        )
        log.warning("%s", self.problem)
        if self.on_problem is not None:
            self.on_problem(self.problem)
        return memory

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
        """Run `work` on the connection; if the file turns out corrupt, rebuild and rerun; if
        it cannot be used at all, carry on in memory and rerun there."""
        with self._lock:
            try:
                return work(self._conn)
            except sqlite3.DatabaseError as exc:
                if self.problem is not None or not (
                    _is_corruption(exc) or isinstance(exc, sqlite3.OperationalError)
                ):
                    raise
                self._conn = self._recover(exc)
                return work(self._conn)

    def _recover(self, exc: sqlite3.DatabaseError) -> sqlite3.Connection:
        """A working connection after `exc`: a rebuilt file if it was corrupt, else memory."""
        if not _is_corruption(exc):
            return self._degrade(exc, self._conn)
        with contextlib.suppress(sqlite3.Error):
            self._conn.close()
        try:
            self._move_aside(exc)
            return self._connect()
        except (sqlite3.Error, OSError) as again:
            return self._degrade(again, None)

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


def _retention_days(c: sqlite3.Connection, profile: str) -> int:
    row = c.execute(
        "SELECT value FROM settings WHERE key = ?", (_RETENTION_KEY + profile,)
    ).fetchone()
    return int(row[0]) if row else JOURNAL_RETENTION_DAYS


def _prune_journal(c: sqlite3.Connection, now: float, profile: str | None = None) -> None:
    """Drop `profile`'s journal rows older than the retention it chose; with no profile, every
    profile's, each by its own retention."""
    if profile is not None:
        profiles = [profile]
    else:
        profiles = [
            row[0]
            for row in c.execute(
                "SELECT profile FROM journal_moods UNION SELECT profile FROM journal_tracks"
            )
        ]
    for name in profiles:
        cutoff = now - _retention_days(c, name) * 86400
        c.execute("DELETE FROM journal_moods WHERE profile = ? AND ended_at < ?", (name, cutoff))
        c.execute("DELETE FROM journal_tracks WHERE profile = ? AND played_at < ?", (name, cutoff))


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch the file to WAL, trying again within OPEN_BUSY_S while another connection holds it.

    Two hosts opening one file at once (two Chrome profiles starting together) both ask for the
    switch, and each needs the file to itself for it: SQLite answers the one that would wait on
    the other "locked" at once, without its busy timeout, so the wait is done here, with a
    random pause so that the two do not keep meeting.
    """
    deadline = time.monotonic() + OPEN_BUSY_S
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(random.uniform(0, WAL_RETRY_S))


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring a file from before profiles up to date, keeping its rows: its journal rows and
    retention become OLD_SHARED_PROFILE's, for the first profile to adopt. One transaction that
    takes the write lock before it looks, so of two hosts opening the old file at once, one
    migrates it and the other finds it done. A file that needs nothing is not written."""
    if not any(_columns(conn, table) == old for table, old in _OLD_LAYOUT.items()):
        return
    # Once per file, so it may wait for another host's migration longer than an open would.
    conn.execute(f"PRAGMA busy_timeout = {int(WRITE_BUSY_S * 1000)}")
    conn.execute("BEGIN IMMEDIATE")
    try:
        for table, definition, old_columns in (
            ("journal_moods", _JOURNAL_MOODS, "id, emotion, confidence, source, started_at, "
             "ended_at"),
            ("journal_tracks", _JOURNAL_TRACKS, "video_id, title, artists, emotion, played_at"),
        ):  # fmt: skip
            if _columns(conn, table) != _OLD_LAYOUT[table]:
                continue
            conn.execute(f"CREATE TABLE {table}_migrated {definition}")
            conn.execute(
                f"INSERT INTO {table}_migrated (profile, {old_columns}) "
                f"SELECT ?, {old_columns} FROM {table}",
                (OLD_SHARED_PROFILE,),
            )
            conn.execute(f"DROP TABLE {table}")  # its old index goes with it
            conn.execute(f"ALTER TABLE {table}_migrated RENAME TO {table}")
        conn.execute(
            "UPDATE OR IGNORE settings SET key = ? WHERE key = ?",
            (_RETENTION_KEY + OLD_SHARED_PROFILE, _OLD_RETENTION_KEY),
        )
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(OPEN_BUSY_S * 1000)}")


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def _iso(at: float) -> str:
    """Local time, to the second, as a spreadsheet reads it."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))


class _Unwritable(sqlite3.OperationalError):
    """The file opened and reads, but cannot be written; `conn` can still be copied from."""

    def __init__(self, conn: sqlite3.Connection, reason: sqlite3.OperationalError) -> None:
        super().__init__(str(reason))
        self.conn, self.reason = conn, reason


def _check_layout(conn: sqlite3.Connection) -> None:
    """Raise (as corruption, so the file is moved aside) if a table has other columns."""
    for table, columns in _LAYOUT.items():
        found = _columns(conn, table)
        if found and found != columns and found != _OLD_LAYOUT.get(table):
            raise sqlite3.DatabaseError(
                f"its {table} table has columns {', '.join(sorted(found))}, not moodtune's"
            )


def _has_schema(conn: sqlite3.Connection) -> bool:
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return set(_LAYOUT) <= names


def _is_current(conn: sqlite3.Connection) -> bool:
    """Every table is there, with this version's columns."""
    return all(_columns(conn, table) == columns for table, columns in _LAYOUT.items())


def _within(seconds: float) -> Callable[[int, int, int], None]:
    """A backup progress callback that stops the copy after `seconds` (sqlite3 retries a
    locked source for ever otherwise)."""
    deadline = time.monotonic() + seconds

    def progress(status: int, remaining: int, total: int) -> None:
        if time.monotonic() > deadline:
            raise sqlite3.OperationalError("copying the file took too long")

    return progress


def _reason_words(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return str(exc)


def _is_corruption(exc: sqlite3.DatabaseError) -> bool:
    # sqlite3 raises the base class itself for SQLITE_CORRUPT and SQLITE_NOTADB; its subclasses
    # (OperationalError for a locked file, IntegrityError, ...) are not a broken file.
    return type(exc) is sqlite3.DatabaseError
