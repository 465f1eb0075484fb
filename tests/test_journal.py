"""The mood journal in the store: what is kept, for how long, its export, and deleting it."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from host.music.store import DB_NAME, JOURNAL_RETENTION_DAYS, OLD_SHARED_PROFILE, Store
from host.vision.calibration import Calibration
from host.vocabulary import EMOTIONS

DAY = 86400.0
# Two Chrome profiles' ids, as the extension makes them.
ANNA = "6f1c8a52-3f0e-4a43-9d55-1f2b7c9e0a11"
BEN = "0b9d4e77-8c21-4f6a-b3e5-7d2a1c4f9e22"


@pytest.fixture
def store(tmp_path):
    opened = Store(tmp_path / DB_NAME)
    yield opened
    opened.close()


def test_settled_moods_and_the_tracks_played_for_them_are_read_back_in_order(store):
    now = time.time()
    calm = store.start_mood(ANNA, "neutral", 0.71, "camera", at=now - 600)
    store.extend_mood(calm, at=now - 300)
    store.start_mood(ANNA, "happy", 1.0, "hand", at=now - 300)
    store.add_played(ANNA, "abcdef12345", "Walking on Sunshine", ["Katrina"], "happy", at=now - 200)
    journal = store.journal(ANNA, now - DAY, now)
    assert [(m.emotion, m.source, m.started_at, m.ended_at) for m in journal.moods] == [
        ("neutral", "camera", now - 600, now - 300),
        ("happy", "hand", now - 300, now - 300),
    ]
    assert journal.moods[0].confidence == 0.71
    [track] = journal.tracks
    assert (track.title, track.artists, track.emotion) == (
        "Walking on Sunshine", ("Katrina",), "happy"
    )  # fmt: skip
    assert store.journal(ANNA, now - 100, now).moods == [], "moods that ended before are not shown"


def test_the_journal_keeps_thirty_days_unless_told_otherwise(tmp_path):
    now = time.time()
    store = Store(tmp_path / DB_NAME)
    assert store.journal_retention_days(ANNA) == JOURNAL_RETENTION_DAYS == 30
    store.start_mood(ANNA, "sad", 0.6, "camera", at=now - 31 * DAY)
    store.add_played(ANNA, "old00000000", "Old song", [], "sad", at=now - 31 * DAY)
    store.start_mood(ANNA, "sad", 0.6, "camera", at=now - 10 * DAY)
    store.add_played(ANNA, "new00000000", "Newer song", [], "sad", at=now - 10 * DAY)
    journal = store.journal(ANNA, 0, now)
    assert [m.started_at for m in journal.moods] == [now - 10 * DAY]
    assert [t.title for t in journal.tracks] == ["Newer song"]
    store.set_journal_retention(ANNA, 7)
    assert store.journal(ANNA, 0, now).moods == [] and store.journal(ANNA, 0, now).tracks == []
    store.close()
    again = Store(tmp_path / DB_NAME)
    assert again.journal_retention_days(ANNA) == 7, "the setting survives a restart"
    with pytest.raises(ValueError, match="between 1 and 365"):
        again.set_journal_retention(ANNA, 0)
    again.close()


def test_the_export_is_a_csv_a_spreadsheet_opens(store):
    now = time.time()
    mood = store.start_mood(ANNA, "angry", 0.8, "camera", at=now - 60)
    store.extend_mood(mood, at=now - 30)
    store.add_played(ANNA, "abcdef12345", 'Say "Hi", Friend', ["A", "B"], "angry", at=now - 45)
    rows = list(csv.DictReader(io.StringIO(store.journal_csv(ANNA))))
    assert [row["kind"] for row in rows] == ["mood", "track"]
    assert rows[0]["emotion"] == "angry" and rows[0]["source"] == "camera"
    assert rows[0]["start"] == time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now - 60))
    assert rows[1]["title"] == 'Say "Hi", Friend' and rows[1]["artists"] == "A; B"


def test_delete_everything_leaves_no_trace_in_the_file(tmp_path):
    path = tmp_path / DB_NAME
    store = Store(path)
    now = time.time()
    for i in range(200):  # enough rows to fill pages of their own
        store.start_mood(ANNA, "sad", 0.5, "camera", at=now - 1000 + i)
        store.add_played(
            ANNA, f"vid{i:08d}", f"Secret song {i}", ["Secret artist"], "sad", at=now - i
        )
    store.save_calibration(ANNA, {"offsets": [0] * 7, "made_at": now, "frames": 50}, now)
    store.add_history(["vid00000001"], "played")
    store.cache_put("ytm:songs:sad", [{"title": "public listing"}])

    def on_disk() -> bytes:
        return b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith(DB_NAME))

    assert b"Secret song" in on_disk()
    store.forget_listener(ANNA)
    assert b"Secret song" not in on_disk() and b"Secret artist" not in on_disk()
    assert store.journal(ANNA, 0, now + 1).moods == [] and store.calibration(ANNA) is None
    assert store.history_since("played", 0) == set()
    entry = store.cache_get("ytm:songs:sad")
    assert entry is not None, "YouTube Music's public listings are not the listener's"
    store.close()
    assert b"Secret song" not in on_disk()


def fill(store: Store, profile: str, song: str, at: float) -> None:
    """A mood and a track in `profile`'s journal, at `at`."""
    mood = store.start_mood(profile, "happy", 0.9, "camera", at=at)
    store.extend_mood(mood, at=at + 60)
    store.add_played(profile, "abcdef12345", song, ["Someone"], "happy", at=at + 30)


def test_two_profiles_on_one_computer_each_read_and_export_only_their_own_journal(store):
    now = time.time()
    fill(store, ANNA, "Anna's song", now - 600)
    fill(store, BEN, "Ben's song", now - 300)
    annas, bens = store.journal(ANNA, 0, now), store.journal(BEN, 0, now)
    assert [m.started_at for m in annas.moods] == [now - 600]
    assert [t.title for t in annas.tracks] == ["Anna's song"]
    assert [m.started_at for m in bens.moods] == [now - 300]
    assert [t.title for t in bens.tracks] == ["Ben's song"]
    assert "Ben's song" not in store.journal_csv(ANNA)
    assert "Anna's song" in store.journal_csv(ANNA)
    assert store.journal("someone-else", 0, now).moods == []


def test_each_profile_keeps_its_journal_for_the_days_it_chose(tmp_path):
    now = time.time()
    store = Store(tmp_path / DB_NAME)
    fill(store, ANNA, "Anna's old song", now - 10 * DAY)
    fill(store, BEN, "Ben's old song", now - 10 * DAY)
    store.set_journal_retention(ANNA, 7)
    assert store.journal(ANNA, 0, now).tracks == []
    assert [t.title for t in store.journal(BEN, 0, now).tracks] == ["Ben's old song"]
    assert store.journal_retention_days(BEN) == 30, "Anna's choice is not Ben's"
    fill(store, BEN, "Ben's new song", now)  # a write prunes the writer's journal only
    store.set_journal_retention(BEN, 14)
    store.close()
    again = Store(tmp_path / DB_NAME)  # opening prunes each profile by its own retention
    assert [t.title for t in again.journal(BEN, 0, now + 60).tracks] == [
        "Ben's old song", "Ben's new song"
    ]  # fmt: skip
    assert (again.journal_retention_days(ANNA), again.journal_retention_days(BEN)) == (7, 14)
    again.close()


def test_delete_everything_in_one_profile_leaves_the_other_profiles_journal_and_calibration(
    tmp_path,
):
    path = tmp_path / DB_NAME
    store = Store(path)
    now = time.time()
    for i in range(100):
        fill(store, ANNA, f"Anna's secret {i}", now - 5000 + i)
    fill(store, BEN, "Ben's keeper", now - 100)
    store.save_calibration(ANNA, {"made_at": 1.0}, 1.0)
    store.save_calibration(BEN, {"made_at": 2.0}, 2.0)
    store.forget_listener(ANNA)
    on_disk = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith(DB_NAME))
    assert b"Anna's secret" not in on_disk
    assert store.journal(ANNA, 0, now).moods == [] and store.calibration(ANNA) is None
    assert [t.title for t in store.journal(BEN, 0, now).tracks] == ["Ben's keeper"]
    assert len(store.journal(BEN, 0, now).moods) == 1
    assert store.calibration(BEN) == {"made_at": 2.0}
    store.close()


# The store's tables as moodtune wrote them before journals were per profile (copied from that
# version's schema): a listener updating brings a file like this.
OLD_SCHEMA = """
CREATE TABLE cache (key TEXT PRIMARY KEY, value TEXT NOT NULL, fetched_at REAL NOT NULL);
CREATE TABLE history (
    video_id TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('offered', 'played')),
    at REAL NOT NULL
);
CREATE INDEX history_by_time ON history (event, at);
CREATE TABLE track_artists (video_id TEXT PRIMARY KEY, artists TEXT NOT NULL);
CREATE TABLE track_scores (
    video_id TEXT NOT NULL, emotion TEXT NOT NULL, score REAL NOT NULL,
    PRIMARY KEY (video_id, emotion)
);
CREATE TABLE unplayable (video_id TEXT PRIMARY KEY, at REAL NOT NULL);
CREATE TABLE artist_scores (
    artist TEXT NOT NULL, emotion TEXT NOT NULL, score REAL NOT NULL,
    PRIMARY KEY (artist, emotion)
);
CREATE TABLE calibration (profile TEXT PRIMARY KEY, value TEXT NOT NULL, made_at REAL NOT NULL);
CREATE TABLE journal_moods (
    id INTEGER PRIMARY KEY,
    emotion TEXT NOT NULL,
    confidence REAL NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('camera', 'hand')),
    started_at REAL NOT NULL,
    ended_at REAL NOT NULL
);
CREATE INDEX journal_moods_by_time ON journal_moods (started_at);
CREATE TABLE journal_tracks (
    video_id TEXT NOT NULL,
    title TEXT NOT NULL,
    artists TEXT NOT NULL,
    emotion TEXT NOT NULL,
    played_at REAL NOT NULL
);
CREATE INDEX journal_tracks_by_time ON journal_tracks (played_at);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


OLD_MADE_AT = 1_700_000_000.0


def old_store(path, now: float) -> None:
    """A file from before journals were per profile, with a listener's journal in it."""
    db = sqlite3.connect(path)
    db.executescript(OLD_SCHEMA)
    db.execute(
        "INSERT INTO journal_moods (emotion, confidence, source, started_at, ended_at) "
        "VALUES ('sad', 0.6, 'camera', ?, ?)",
        (now - 3 * DAY, now - 3 * DAY + 600),
    )
    db.execute(
        "INSERT INTO journal_tracks (video_id, title, artists, emotion, played_at) "
        "VALUES ('abcdef12345', 'Old favourite', '[\"The Band\"]', 'sad', ?)",
        (now - 3 * DAY + 60,),
    )
    db.execute("INSERT INTO settings VALUES ('journal_retention_days', '14')")
    calibration = Calibration(np.zeros(len(EMOTIONS)), OLD_MADE_AT, frames=50).to_json()
    db.execute(
        "INSERT INTO calibration VALUES (?, ?, ?)",
        (OLD_SHARED_PROFILE, json.dumps(calibration), OLD_MADE_AT),
    )
    db.execute("INSERT INTO cache VALUES ('ytm:songs:sad', '[1]', ?)", (now,))
    db.commit()
    db.close()


def test_a_store_from_before_profiles_is_migrated_and_keeps_its_rows(tmp_path):
    path = tmp_path / DB_NAME
    now = time.time()
    old_store(path, now)
    store = Store(path)
    assert store.problem is None
    assert not list(tmp_path.glob(f"{DB_NAME}.corrupt-*")), "it is migrated, not moved aside"
    journal = store.journal(OLD_SHARED_PROFILE, 0, now)
    assert [(m.emotion, m.started_at) for m in journal.moods] == [("sad", now - 3 * DAY)]
    assert [(t.title, t.artists) for t in journal.tracks] == [("Old favourite", ("The Band",))]
    assert journal.retention_days == 14
    assert store.cache_get("ytm:songs:sad").value == [1]
    fill(store, ANNA, "After the update", now - 60)  # the new layout takes new rows
    store.close()
    again = Store(path)  # and opens again as it is
    assert len(again.journal(OLD_SHARED_PROFILE, 0, now).moods) == 1
    assert [t.title for t in again.journal(ANNA, 0, now).tracks] == ["After the update"]
    again.close()


def test_a_store_from_before_profiles_another_program_is_writing_is_migrated_in_memory(tmp_path):
    path = tmp_path / DB_NAME
    now = time.time()
    old_store(path, now)
    locker = sqlite3.connect(path, timeout=0)
    locker.execute("BEGIN IMMEDIATE")  # another program writing: the file cannot be migrated
    try:
        store = Store(path)
    finally:
        locker.rollback()
        locker.close()
    assert store.problem is not None and "locked" in store.problem
    journal = store.journal(OLD_SHARED_PROFILE, 0, now)
    assert [t.title for t in journal.tracks] == ["Old favourite"], "copied, then migrated"
    fill(store, ANNA, "In memory", now - 60)
    assert [t.title for t in store.journal(ANNA, 0, now).tracks] == ["In memory"]
    store.close()
    with sqlite3.connect(path) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(journal_moods)")}
    assert "profile" not in columns, "the file itself was left as it was"


def test_the_first_profile_adopts_the_old_journal_with_the_old_calibration(tmp_path):
    path = tmp_path / DB_NAME
    now = time.time()
    old_store(path, now)
    store = Store(path)
    store.adopt_listener(OLD_SHARED_PROFILE, ANNA)
    store.adopt_listener(OLD_SHARED_PROFILE, BEN)
    annas = store.journal(ANNA, 0, now)
    assert [t.title for t in annas.tracks] == ["Old favourite"] and len(annas.moods) == 1
    assert annas.retention_days == 14 and store.calibration(ANNA)["made_at"] == OLD_MADE_AT
    bens = store.journal(BEN, 0, now)
    assert bens.moods == [] and bens.tracks == [] and bens.retention_days == 30
    assert store.calibration(BEN) is None
    assert store.journal(OLD_SHARED_PROFILE, 0, now).moods == []
    store.close()


def test_a_profile_with_its_own_calibration_leaves_the_old_journal_to_who_takes_the_old_one(
    store,
):
    now = time.time()
    fill(store, OLD_SHARED_PROFILE, "Old song", now - 600)
    store.save_calibration(OLD_SHARED_PROFILE, {"made_at": 1.0}, 1.0)
    store.save_calibration(BEN, {"made_at": 2.0}, 2.0)
    store.adopt_listener(OLD_SHARED_PROFILE, BEN)
    assert store.journal(BEN, 0, now).tracks == [] and store.calibration(BEN) == {"made_at": 2.0}
    store.adopt_listener(OLD_SHARED_PROFILE, ANNA)
    assert [t.title for t in store.journal(ANNA, 0, now).tracks] == ["Old song"]
    assert store.calibration(ANNA) == {"made_at": 1.0}


def test_with_no_old_calibration_the_old_journal_goes_to_the_first_profile(store):
    now = time.time()
    fill(store, OLD_SHARED_PROFILE, "Old song", now - 600)
    store.set_journal_retention(ANNA, 90)
    store.set_journal_retention(OLD_SHARED_PROFILE, 14)
    store.adopt_listener(OLD_SHARED_PROFILE, ANNA)
    store.adopt_listener(OLD_SHARED_PROFILE, BEN)
    assert [t.title for t in store.journal(ANNA, 0, now).tracks] == ["Old song"]
    assert store.journal_retention_days(ANNA) == 90, "a retention Anna chose herself wins"
    assert store.journal(BEN, 0, now).tracks == []


def test_of_two_hosts_adopting_the_old_journal_at_once_one_gets_all_of_it(tmp_path):
    now = time.time()
    for attempt in range(5):
        path = tmp_path / f"{attempt}.db"
        old_store(path, now)
        stores = [Store(path), Store(path)]  # two browser profiles' hosts, starting together
        start = threading.Barrier(2)

        def adopt(store: Store, profile: str, start: threading.Barrier = start) -> None:
            start.wait()
            store.adopt_listener(OLD_SHARED_PROFILE, profile)

        threads = [
            threading.Thread(target=adopt, args=pair)
            for pair in zip(stores, (ANNA, BEN), strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        owners = sorted(
            (len(stores[0].journal(p, 0, now).tracks), stores[0].calibration(p) is not None)
            for p in (ANNA, BEN)
        )
        assert owners == [(0, False), (1, True)], "one profile has the journal and calibration"
        for store in stores:
            assert store.problem is None
            store.close()


# Two openings meet in SQLite's WAL switch a few times in a hundred: enough tries to catch it.
SIMULTANEOUS_OPENINGS = 100


def test_two_hosts_opening_a_store_from_before_profiles_at_once_migrate_it_once(tmp_path):
    now = time.time()
    for attempt in range(SIMULTANEOUS_OPENINGS):
        path = tmp_path / f"{attempt}.db"
        old_store(path, now)
        start = threading.Barrier(2)
        opened: list[Store] = []

        def open_store(path: Path, start: threading.Barrier, opened: list[Store]) -> None:
            start.wait()
            opened.append(Store(path))

        threads = [
            threading.Thread(target=open_store, args=(path, start, opened)) for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for store in opened:
            assert store.problem is None, store.problem
            journal = store.journal(OLD_SHARED_PROFILE, 0, now)
            assert [t.title for t in journal.tracks] == ["Old favourite"], "once, not twice"
            assert len(journal.moods) == 1
            store.close()
