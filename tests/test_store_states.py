"""Every state the store's file can be in: the store opens, works, and says what it could not do.

The tests run as root, for whom permission bits stop nothing; the read-only states are made with
`chattr +i` (immutable: not even root may write) and with a path under a regular file.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from host.music.store import DB_NAME, Store


def works(store: Store) -> None:
    """Reads and writes answer, whatever backs them."""
    store.cache_put("k", [1, 2])
    assert store.cache_get("k").value == [1, 2]
    store.add_history(["v1"], "played", at=10.0)
    assert store.history_since("played", 0.0) == {"v1"}
    store.add_feedback("v1", "sad", 1.0, 0.5)
    assert store.scores("sad").tracks == {"v1": 1.0}


def in_memory(store: Store) -> None:
    assert store.problem is not None
    assert "kept only until moodtune stops" in store.problem
    works(store)


@pytest.fixture
def immutable() -> Iterator[list[Path]]:
    """Paths to `chattr +i`; made mutable again afterwards so tmp_path can be removed."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    marked: list[Path] = []
    yield marked
    for path in marked:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def make_immutable(marked: list[Path], path: Path) -> None:
    result = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"chattr +i is not allowed here: {result.stderr.strip()}")
    marked.append(path)


def test_a_folder_where_the_file_should_be(tmp_path):
    (tmp_path / DB_NAME).mkdir()
    store = Store(tmp_path / DB_NAME)
    in_memory(store)
    assert str(tmp_path / DB_NAME) in store.problem
    assert (tmp_path / DB_NAME).is_dir(), "a folder is not moved aside"


def test_a_dangling_symlink(tmp_path):
    (tmp_path / DB_NAME).symlink_to(tmp_path / "gone" / "elsewhere.db")
    in_memory(Store(tmp_path / DB_NAME))


def test_a_data_folder_under_a_regular_file(tmp_path):
    (tmp_path / "plain").write_text("not a folder")
    store = Store(tmp_path / "plain" / "data" / DB_NAME)
    in_memory(store)
    assert "Not a directory" in store.problem


def test_the_default_data_folder_cannot_be_made(tmp_path, monkeypatch):
    (tmp_path / "plain").write_text("not a folder")
    monkeypatch.setenv("MOODTUNE_DATA_DIR", str(tmp_path / "plain" / "moodtune"))
    in_memory(Store())


def test_a_read_only_file_is_read_into_memory(tmp_path, immutable):
    path = tmp_path / DB_NAME
    first = Store(path)
    first.cache_put("kept", "from the file")
    first.close()
    for suffix in ("-wal", "-shm"):
        (tmp_path / (DB_NAME + suffix)).unlink(missing_ok=True)
    make_immutable(immutable, path)
    store = Store(path)
    in_memory(store)
    assert store.cache_get("kept").value == "from the file"


def test_a_read_only_folder(tmp_path, immutable):
    folder = tmp_path / "data"
    folder.mkdir()
    make_immutable(immutable, folder)
    in_memory(Store(folder / DB_NAME))


def test_a_file_of_another_layout_is_moved_aside(tmp_path, caplog):
    path = tmp_path / DB_NAME
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE history (id INTEGER, what TEXT)")
    other.execute("INSERT INTO history VALUES (1, 'theirs')")
    other.commit()
    other.close()
    store = Store(path)
    assert store.problem is None, "a fresh file replaces it"
    works(store)
    aside = list(tmp_path.glob(f"{DB_NAME}.corrupt-*"))
    assert len(aside) == 1
    assert sqlite3.connect(aside[0]).execute("SELECT what FROM history").fetchone() == ("theirs",)
    assert "history table has columns" in caplog.text


def test_a_file_another_program_holds_locked_while_opening(tmp_path):
    path = tmp_path / DB_NAME
    Store(path).close()
    other = sqlite3.connect(path, timeout=0)
    other.execute("BEGIN EXCLUSIVE")
    try:
        store = Store(path)
        assert store.problem is None, "it opens: reading is not blocked in WAL mode"
        store.cache_put("k", "v")  # waits the busy timeout, then carries on in memory
        assert store.cache_get("k").value == "v"
        assert store.problem is not None and "locked" in store.problem
    finally:
        other.rollback()
        other.close()


def test_a_full_disk_during_use(tmp_path):
    store = Store(tmp_path / DB_NAME)
    problems: list[str] = []
    store.on_problem = problems.append
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "disk is full"
    store.cache_put("big", "x" * 100_000)
    assert store.cache_get("big").value == "x" * 100_000
    assert len(problems) == 1 and "full" in problems[0]
    works(store)
    assert len(problems) == 1, "told once"
