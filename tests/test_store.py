"""The SQLite store and where it lives."""

from __future__ import annotations

import logging
import sqlite3
import sys
import time

import pytest

from host import paths
from host.music.store import DB_NAME, KEEP_S, SCORE_LIMIT, Store


@pytest.fixture
def store(tmp_path):
    opened = Store(tmp_path / DB_NAME)
    yield opened
    opened.close()


def test_data_dir_follows_the_override(tmp_path, monkeypatch):
    monkeypatch.setenv("MOODTUNE_DATA_DIR", str(tmp_path / "mine"))
    assert paths.data_dir() == tmp_path / "mine"
    assert (tmp_path / "mine").is_dir()


def test_data_dir_on_linux_follows_xdg(tmp_path, monkeypatch):
    monkeypatch.delenv("MOODTUNE_DATA_DIR", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert paths.data_dir() == tmp_path / "xdg" / "moodtune"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert paths.data_dir() == tmp_path / ".local" / "share" / "moodtune"


def test_data_dir_on_macos(tmp_path, monkeypatch):
    monkeypatch.delenv("MOODTUNE_DATA_DIR", raising=False)
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert paths.data_dir() == tmp_path / "Library" / "Application Support" / "moodtune"


def test_data_dir_on_windows(tmp_path, monkeypatch):
    monkeypatch.delenv("MOODTUNE_DATA_DIR", raising=False)
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "Local"))
    assert paths.data_dir() == tmp_path / "Local" / "moodtune"


def test_the_store_defaults_to_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MOODTUNE_DATA_DIR", str(tmp_path))
    default = Store()
    default.cache_put("k", [1])
    default.close()
    assert (tmp_path / DB_NAME).exists()


def test_cached_values_survive_a_restart(tmp_path):
    fetched = time.time() - 3600
    first = Store(tmp_path / DB_NAME)
    first.cache_put("ytm:songs:sad", [{"title": "दर्द"}], at=fetched)
    first.close()
    again = Store(tmp_path / DB_NAME)
    entry = again.cache_get("ytm:songs:sad")
    assert entry is not None
    assert entry.value == [{"title": "दर्द"}]
    assert entry.fetched_at == fetched
    assert again.cache_get("missing") is None
    again.close()


def test_history_is_read_back_by_event_and_time(store):
    store.add_history(["a", "b"], "offered", at=100.0)
    store.add_history(["c"], "played", at=200.0)
    assert store.history_since("offered", 50.0) == {"a", "b"}
    assert store.history_since("offered", 150.0) == set()
    assert store.history_since("played", 150.0) == {"c"}


def test_feedback_reaches_the_track_and_its_artists_for_that_emotion_only(store):
    store.remember_artists({"v1": ("Arijit Singh", "Shreya Ghoshal")})
    store.add_feedback("v1", "sad", -1.0, -0.5)
    sad = store.scores("sad")
    assert sad.tracks == {"v1": -1.0}
    assert sad.artists == {"Arijit Singh": -0.5, "Shreya Ghoshal": -0.5}
    assert store.scores("happy").tracks == {}


def test_scores_saturate_so_old_habits_can_be_unlearned(store):
    for _ in range(20):
        store.add_feedback("v1", "sad", -1.0, 0.0)
    assert store.scores("sad").tracks["v1"] == -SCORE_LIMIT
    store.add_feedback("v1", "sad", 1.0, 0.0)
    assert store.scores("sad").tracks["v1"] == -SCORE_LIMIT + 1


def test_an_old_shared_calibration_is_adopted_once_and_never_over_a_profiles_own(store):
    store.save_calibration("default", {"made_at": 1.0}, 1.0)
    store.save_calibration("ben", {"made_at": 2.0}, 2.0)
    store.adopt_listener("default", "ben")
    assert store.calibration("ben") == {"made_at": 2.0}, "Ben keeps his own"
    assert store.calibration("default") == {"made_at": 1.0}
    store.adopt_listener("default", "anna")
    store.adopt_listener("default", "carl")
    assert store.calibration("anna") == {"made_at": 1.0}
    assert store.calibration("default") is None and store.calibration("carl") is None


def test_a_failed_write_leaves_nothing_behind(store):
    with pytest.raises(sqlite3.IntegrityError):
        store.add_history(["a", None], "played", at=1.0)  # type: ignore[list-item]
    assert store.history_since("played", 0.0) == set(), "'a' was rolled back with the batch"


def test_a_garbage_file_is_moved_aside_and_rebuilt(tmp_path, caplog):
    path = tmp_path / DB_NAME
    path.write_bytes(b"this is not a database" * 100)
    with caplog.at_level(logging.WARNING, logger="host.music.store"):
        store = Store(path)
    store.cache_put("k", "v")
    assert store.cache_get("k").value == "v"
    store.close()
    aside = list(tmp_path.glob(f"{DB_NAME}.corrupt-*"))
    assert [p.read_bytes()[:22] for p in aside] == [b"this is not a database"]
    assert "could not be read" in caplog.text
    assert str(aside[0]) in caplog.text


def test_a_database_damaged_inside_is_moved_aside_and_rebuilt(tmp_path, caplog):
    path = tmp_path / DB_NAME
    store = Store(path)
    store.add_history([f"video{i}" for i in range(3000)], "played", at=1.0e9)
    store.close()
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 8 * page
    data[2 * page : 6 * page] = b"\x55" * (4 * page)
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="host.music.store"):
        rebuilt = Store(path)
    assert rebuilt.history_since("played", 0.0) == set()
    rebuilt.add_history(["fresh"], "played", at=2.0e9)
    assert rebuilt.history_since("played", 0.0) == {"fresh"}
    rebuilt.close()
    assert list(tmp_path.glob(f"{DB_NAME}.corrupt-*"))
    assert "could not be read" in caplog.text


class _MalformedOnce:
    """A connection whose first query finds the disk image malformed, as SQLite reports it."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.failed = False

    def execute(self, *args):
        if not self.failed:
            self.failed = True
            raise sqlite3.DatabaseError("database disk image is malformed")
        return self._conn.execute(*args)

    def __getattr__(self, name):
        return getattr(self._conn, name)


def test_corruption_found_while_running_is_moved_aside_and_the_call_answered(tmp_path, caplog):
    path = tmp_path / DB_NAME
    store = Store(path)
    store.cache_put("k", "v")
    store._conn = _MalformedOnce(store._conn)
    with caplog.at_level(logging.WARNING, logger="host.music.store"):
        assert store.cache_get("k") is None, "answered from the rebuilt, empty store"
    store.cache_put("k2", "v2")
    assert store.cache_get("k2").value == "v2"
    store.close()
    assert len(list(tmp_path.glob(f"{DB_NAME}.corrupt-*"))) == 1
    assert "malformed" in caplog.text


def test_a_locked_database_is_not_mistaken_for_a_corrupt_one(tmp_path):
    path = tmp_path / DB_NAME
    store = Store(path)
    store.cache_put("k", "v")
    problems: list[str] = []
    store.on_problem = problems.append
    other = sqlite3.connect(path, timeout=0)
    other.execute("BEGIN EXCLUSIVE")
    store._conn.execute("PRAGMA busy_timeout = 0")
    store.cache_put("k2", "v2")  # kept in memory, not lost and not raised
    other.rollback()
    other.close()
    assert store.cache_get("k").value == "v", "what the file held was copied into memory"
    assert store.cache_get("k2").value == "v2"
    assert len(problems) == 1 and "locked" in problems[0]
    store.close()
    assert not list(tmp_path.glob(f"{DB_NAME}.corrupt-*"))


def test_rows_older_than_the_keep_period_are_dropped_on_open(tmp_path):
    path = tmp_path / DB_NAME
    store = Store(path)
    now = time.time()
    store.cache_put("old", 1, at=now - KEEP_S - 60)
    store.cache_put("recent", 2, at=now - 3600)
    store.add_history(["old"], "played", at=now - KEEP_S - 60)
    store.add_history(["recent"], "played", at=now - 3600)
    store.close()
    again = Store(path)
    assert again.cache_get("old") is None
    assert again.cache_get("recent").value == 2
    assert again.history_since("played", 0.0) == {"recent"}
    again.close()
