"""The mood journal in the store: what is kept, for how long, its export, and deleting it."""

from __future__ import annotations

import csv
import io
import time

import pytest

from host.music.store import DB_NAME, JOURNAL_RETENTION_DAYS, Store

DAY = 86400.0


@pytest.fixture
def store(tmp_path):
    opened = Store(tmp_path / DB_NAME)
    yield opened
    opened.close()


def test_settled_moods_and_the_tracks_played_for_them_are_read_back_in_order(store):
    now = time.time()
    calm = store.start_mood("neutral", 0.71, "camera", at=now - 600)
    store.extend_mood(calm, at=now - 300)
    store.start_mood("happy", 1.0, "hand", at=now - 300)
    store.add_played("abcdef12345", "Walking on Sunshine", ["Katrina"], "happy", at=now - 200)
    journal = store.journal(now - DAY, now)
    assert [(m.emotion, m.source, m.started_at, m.ended_at) for m in journal.moods] == [
        ("neutral", "camera", now - 600, now - 300),
        ("happy", "hand", now - 300, now - 300),
    ]
    assert journal.moods[0].confidence == 0.71
    [track] = journal.tracks
    assert (track.title, track.artists, track.emotion) == (
        "Walking on Sunshine", ("Katrina",), "happy"
    )  # fmt: skip
    assert store.journal(now - 100, now).moods == [], "moods that ended before are not shown"


def test_the_journal_keeps_thirty_days_unless_told_otherwise(tmp_path):
    now = time.time()
    store = Store(tmp_path / DB_NAME)
    assert store.journal_retention_days() == JOURNAL_RETENTION_DAYS == 30
    store.start_mood("sad", 0.6, "camera", at=now - 31 * DAY)
    store.add_played("old00000000", "Old song", [], "sad", at=now - 31 * DAY)
    store.start_mood("sad", 0.6, "camera", at=now - 10 * DAY)
    store.add_played("new00000000", "Newer song", [], "sad", at=now - 10 * DAY)
    journal = store.journal(0, now)
    assert [m.started_at for m in journal.moods] == [now - 10 * DAY]
    assert [t.title for t in journal.tracks] == ["Newer song"]
    store.set_journal_retention(7)
    assert store.journal(0, now).moods == [] and store.journal(0, now).tracks == []
    store.close()
    again = Store(tmp_path / DB_NAME)
    assert again.journal_retention_days() == 7, "the setting survives a restart"
    with pytest.raises(ValueError, match="between 1 and 365"):
        again.set_journal_retention(0)
    again.close()


def test_the_export_is_a_csv_a_spreadsheet_opens(store):
    now = time.time()
    mood = store.start_mood("angry", 0.8, "camera", at=now - 60)
    store.extend_mood(mood, at=now - 30)
    store.add_played("abcdef12345", 'Say "Hi", Friend', ["A", "B"], "angry", at=now - 45)
    rows = list(csv.DictReader(io.StringIO(store.journal_csv())))
    assert [row["kind"] for row in rows] == ["mood", "track"]
    assert rows[0]["emotion"] == "angry" and rows[0]["source"] == "camera"
    assert rows[0]["start"] == time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now - 60))
    assert rows[1]["title"] == 'Say "Hi", Friend' and rows[1]["artists"] == "A; B"


def test_delete_everything_leaves_no_trace_in_the_file(tmp_path):
    path = tmp_path / DB_NAME
    store = Store(path)
    now = time.time()
    for i in range(200):  # enough rows to fill pages of their own
        store.start_mood("sad", 0.5, "camera", at=now - 1000 + i)
        store.add_played(f"vid{i:08d}", f"Secret song {i}", ["Secret artist"], "sad", at=now - i)
    store.save_calibration("default", {"offsets": [0] * 7, "made_at": now, "frames": 50}, now)
    store.add_history(["vid00000001"], "played")
    store.cache_put("ytm:songs:sad", [{"title": "public listing"}])

    def on_disk() -> bytes:
        return b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith(DB_NAME))

    assert b"Secret song" in on_disk()
    store.forget_listener()
    assert b"Secret song" not in on_disk() and b"Secret artist" not in on_disk()
    assert store.journal(0, now + 1).moods == [] and store.calibration("default") is None
    assert store.history_since("played", 0) == set()
    entry = store.cache_get("ytm:songs:sad")
    assert entry is not None, "YouTube Music's public listings are not the listener's"
    store.close()
    assert b"Secret song" not in on_disk()
