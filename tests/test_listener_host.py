"""Calibration and the mood journal over native messaging, with videos as the camera."""

from __future__ import annotations

import shutil
import sqlite3
import time
import uuid
from pathlib import Path

import cv2
import numpy as np
import pytest
from test_journal import OLD_MADE_AT, old_store
from test_native_host import HostProcess

from host.music.store import DB_NAME, Store
from host.session import OLD_SHARED_PROFILE
from host.vision.calibration import Calibration
from training.data import read_gray
from training.videos import FPS, FRAME_SIZE, background, face_patch, make_video, render

PEOPLE = Path(__file__).resolve().parent / "data" / "faces_by_person"


def write_video(path: Path, frames: list[np.ndarray]) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, FRAME_SIZE)
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture(scope="module")
def videos(tmp_path_factory, fer_sample) -> dict[str, Path]:
    """Camera-like videos: a resting face (one the model reads as angry or sad), a smile, an
    empty room, and a face that jumps about the picture."""
    folder = tmp_path_factory.mktemp("calibration-videos")
    resting = folder / "resting" / "neutral"
    resting.mkdir(parents=True)
    for photo in sorted((PEOPLE / "neutral").glob("Bill_Graham__*")):
        shutil.copy(photo, resting)
    smiles = folder / "smiles"
    shutil.copytree(fer_sample / "val" / "happy", smiles / "happy")
    made = {"resting": folder / "resting.mp4", "smile": folder / "smile.mp4"}
    make_video(resting.parent, made["resting"], faces=3, seconds=4.0, seed=2)
    make_video(smiles, made["smile"], faces=2, seconds=4.0, seed=2)
    rng = np.random.default_rng(4)
    empty = background(rng)
    made["empty"] = write_video(
        folder / "empty.mp4", [render(empty, empty[:10, :10], np.zeros((10, 10)), (320, 240), rng)
                               for _ in range(40)]
    )  # fmt: skip
    patch, mask = face_patch(read_gray(next(resting.iterdir())))
    spots = [(170, 170), (470, 170), (170, 310), (470, 310)]
    made["jumpy"] = write_video(
        folder / "jumpy.mp4",
        [render(empty, patch, mask, spots[(i // 3) % 4], rng) for i in range(40)],
    )
    return made


@pytest.fixture
def host(tmp_path):
    process = HostProcess(tmp_path / "data")
    yield process
    process.kill()


def profile_id() -> str:
    """A browser profile's id, as the extension makes it (crypto.randomUUID())."""
    return str(uuid.uuid4())


def serve(host: HostProcess, profile: str) -> float | None:
    """Greet `host` as the extension of `profile` does; the profile's calibration date."""
    assert host.wait_for("hello")["calibrated_since"] is None, "the profile is not known yet"
    host.send({"type": "set_profile", "profile": profile})
    return host.wait_for("calibrated")["since"]


def calibration_rows(data: Path) -> dict[str, float]:
    with sqlite3.connect(data / DB_NAME) as db:
        return dict(db.execute("SELECT profile, made_at FROM calibration").fetchall())


def calibrate(host: HostProcess, video: Path) -> dict:
    """Start the camera on `video`, ask for a calibration; its `calibrated` or `error` event
    (offline, music errors come and go meanwhile)."""
    host.send({"type": "start", "camera": str(video)})
    host.wait_for("status", state="camera")
    host.send({"type": "calibrate"})
    first = host.wait_for("calibration_progress")
    assert (first["progress"], first["seconds"]) == (0.0, 5.0)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        event = host.events.get(timeout=20)
        assert event is not None, "the host exited while calibrating"
        if event["type"] == "calibrated" or event.get("code", "").startswith("calibration_"):
            return event
    raise AssertionError("the calibration never finished")


def test_calibrating_to_a_resting_face_is_kept_and_can_be_reset(tmp_path, videos):
    profile = profile_id()
    host = HostProcess(tmp_path / "data")
    try:
        assert serve(host, profile) is None
        before = time.time()
        result = calibrate(host, videos["resting"])
        assert result["type"] == "calibrated", result
        assert before <= result["since"] <= time.time()
        host.send({"type": "start", "camera": str(videos["resting"])})
        assert host.wait_for("status")["calibrated_since"] == result["since"]
    finally:
        host.close_stdin_and_wait()
    again = HostProcess(tmp_path / "data")
    try:
        assert serve(again, profile) == result["since"]
        again.send({"type": "reset_calibration"})
        assert again.wait_for("calibrated")["since"] is None
    finally:
        again.close_stdin_and_wait()
    third = HostProcess(tmp_path / "data")
    try:
        assert serve(third, profile) is None
    finally:
        third.kill()


def test_two_browser_profiles_on_one_computer_each_keep_their_own_calibration(tmp_path, videos):
    data = tmp_path / "data"
    anna, ben = profile_id(), profile_id()
    # Each profile runs its own host; the second starts once the first has made the store (two
    # starting at the same instant on a fresh folder is the store's own tests' business).
    annas = HostProcess(data)
    bens = None
    try:
        assert serve(annas, anna) is None
        bens = HostProcess(data)
        assert serve(bens, ben) is None
        made = calibrate(annas, videos["resting"])
        assert made["type"] == "calibrated", made
        bens.send({"type": "start", "camera": str(videos["resting"])})
        assert bens.wait_for("status", state="camera")["calibrated_since"] is None
        made_too = calibrate(bens, videos["resting"])
        assert made_too["type"] == "calibrated", made_too
        annas.send({"type": "start", "camera": str(videos["smile"])})
        assert annas.wait_for("status", state="camera")["calibrated_since"] == made["since"]
    finally:
        annas.close_stdin_and_wait()
        if bens is not None:
            bens.close_stdin_and_wait()
    assert calibration_rows(data) == {anna: made["since"], ben: made_too["since"]}

    host = HostProcess(data)
    try:
        assert serve(host, ben) == made_too["since"]
        host.send({"type": "reset_calibration"})
        assert host.wait_for("calibrated")["since"] is None
    finally:
        host.close_stdin_and_wait()
    assert calibration_rows(data) == {anna: made["since"]}, "Ben's reset forgets Ben's only"
    host = HostProcess(data)
    try:
        assert serve(host, anna) == made["since"]
        host.send({"type": "set_profile", "profile": ben})
        assert host.wait_for("calibrated")["since"] is None
    finally:
        host.kill()


def test_the_first_profile_to_connect_adopts_the_calibration_of_an_old_store(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    old = Calibration.from_resting(np.full((20, 7), 1 / 7), made_at=1_700_000_000.0)
    Store(data / DB_NAME).save_calibration(OLD_SHARED_PROFILE, old.to_json(), old.made_at)
    first, second = profile_id(), profile_id()
    host = HostProcess(data)
    try:
        assert serve(host, first) == old.made_at
    finally:
        host.close_stdin_and_wait()
    host = HostProcess(data)
    try:
        assert serve(host, second) is None
    finally:
        host.close_stdin_and_wait()
    assert calibration_rows(data) == {first: old.made_at}


def test_a_bad_profile_is_refused_clearly_and_the_host_carries_on(host):
    assert host.wait_for("hello")["calibrated_since"] is None
    host.send({"type": "calibrate"})  # an extension that never says its profile
    refused = host.wait_for("error")
    assert refused["code"] == "bad_message" and "set_profile" in refused["message"]
    good = profile_id()
    for bad in ("", "default", "demo", good.upper(), good + "0", good[:-1] + "/",
                "../" + good, "x" * 5000, 42, None, [good], {"id": good}):  # fmt: skip
        host.send({"type": "set_profile", "profile": bad})
        error = host.wait_for("error")
        assert error["code"] == "bad_field", (bad, error)
        assert error["message"].startswith(("bad 'set_profile' message: profile:", "profile:"))
    host.send({"type": "set_profile"})
    assert "profile: Field required" in host.wait_for("error")["message"]
    host.send({"type": "ping", "id": 7})
    assert host.wait_for("pong")["id"] == 7
    host.send({"type": "set_profile", "profile": good})
    assert host.wait_for("calibrated")["since"] is None


@pytest.mark.parametrize(
    ("video", "code", "words"),
    [("empty", "calibration_no_face", "No face was seen"),
     ("jumpy", "calibration_unsteady", "moved too much"),
     ("smile", "calibration_expression", "try again with your usual face")],
)  # fmt: skip
def test_a_calibration_that_cannot_work_says_what_to_do(host, videos, video, code, words):
    serve(host, profile_id())
    result = calibrate(host, videos[video])
    assert (result["type"], result.get("code")) == ("error", code)
    assert words in result["message"]
    host.send({"type": "status_please"})  # the host is still serving
    assert host.wait_for("error")["code"] == "unknown_type"
    host.send({"type": "ping", "id": 3})
    assert host.wait_for("pong")["id"] == 3


def test_calibrating_with_the_camera_off_asks_for_the_camera(host):
    serve(host, profile_id())
    host.send({"type": "calibrate"})
    error = host.wait_for("error")
    assert error["code"] == "calibration_needs_camera"
    assert "turn it on" in error["message"]


def test_the_journal_records_moods_and_plays_and_deletes_for_real(tmp_path, videos):
    data = tmp_path / "data"
    host = HostProcess(data)
    try:
        serve(host, profile_id())
        host.send({"type": "override_mood", "emotion": "happy"})
        host.wait_for("emotion", emotion="happy")
        host.send({"type": "played", "video_id": "abcdef12345"})
        host.send({"type": "override_mood", "emotion": "sad"})
        host.wait_for("emotion", emotion="sad")
        host.send({"type": "get_journal"})
        journal = host.wait_for("journal")
        assert [(m["emotion"], m["source"]) for m in journal["moods"]] == [
            ("happy", "hand"), ("sad", "hand")
        ]  # fmt: skip
        assert journal["moods"][0]["end"] == journal["moods"][1]["start"]
        assert [(t["video_id"], t["emotion"]) for t in journal["tracks"]] == [
            ("abcdef12345", "happy")
        ]
        assert journal["retention_days"] == 30
        host.send({"type": "set_retention", "days": 3})
        assert host.wait_for("journal")["retention_days"] == 3
        host.send({"type": "set_retention", "days": 0})
        assert host.wait_for("error")["code"] == "bad_field"
        host.send({"type": "export_journal"})
        export = host.wait_for("journal_export")
        assert (export["part"], export["parts"]) == (0, 1)
        lines = export["csv"].splitlines()
        assert lines[0].startswith("kind,emotion,confidence,source,start,end")
        assert [line.split(",")[:2] for line in lines[1:]] == [
            ["mood", "happy"], ["track", "happy"], ["mood", "sad"]
        ]  # fmt: skip
        host.send({"type": "delete_journal"})
        host.wait_for("journal_deleted")
        host.send({"type": "get_journal"})
        emptied = host.wait_for("journal")
        assert emptied["moods"] == [] and emptied["tracks"] == []
    finally:
        host.close_stdin_and_wait()
    with sqlite3.connect(data / DB_NAME) as db:
        assert db.execute("SELECT count(*) FROM journal_moods").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM journal_tracks").fetchone()[0] == 0


def journal_of(host: HostProcess) -> tuple[list[tuple[str, str]], list[str]]:
    """The (emotion, source) of each mood in `host`'s profile's journal, and its tracks."""
    host.send({"type": "get_journal"})
    journal = host.wait_for("journal")
    return [(m["emotion"], m["source"]) for m in journal["moods"]], [
        t["video_id"] for t in journal["tracks"]
    ]


def test_two_browser_profiles_on_one_computer_each_see_and_delete_only_their_own_journal(
    tmp_path,
):
    data = tmp_path / "data"
    data.mkdir()
    anna, ben = profile_id(), profile_id()
    resting = Calibration.from_resting(np.full((20, 7), 1 / 7), made_at=1_700_000_000.0)
    store = Store(data / DB_NAME)
    for profile in (anna, ben):
        store.save_calibration(profile, resting.to_json(), resting.made_at)
    store.close()
    annas, bens = HostProcess(data), HostProcess(data)  # each profile runs its own host
    try:
        serve(annas, anna)
        serve(bens, ben)
        annas.send({"type": "override_mood", "emotion": "sad"})
        annas.wait_for("emotion", emotion="sad")
        annas.send({"type": "played", "video_id": "annasong001"})
        bens.send({"type": "override_mood", "emotion": "angry"})
        bens.wait_for("emotion", emotion="angry")
        bens.send({"type": "played", "video_id": "bensong0001"})
        assert journal_of(annas) == ([("sad", "hand")], ["annasong001"])
        assert journal_of(bens) == ([("angry", "hand")], ["bensong0001"])
        bens.send({"type": "export_journal"})
        exported = bens.wait_for("journal_export")["csv"]
        assert "bensong0001" in exported and "annasong001" not in exported
        assert "sad" not in exported
        bens.send({"type": "delete_journal"})
        bens.wait_for("journal_deleted")
        assert journal_of(bens) == ([], [])
        assert journal_of(annas) == ([("sad", "hand")], ["annasong001"]), "Anna's is kept"
    finally:
        annas.close_stdin_and_wait()
        bens.close_stdin_and_wait()
    assert calibration_rows(data) == {anna: resting.made_at}, "Ben's delete forgets Ben's only"
    # The options page's journal runs a host of its own: it shows the same profile's journal.
    page = HostProcess(data)
    try:
        serve(page, anna)
        assert journal_of(page) == ([("sad", "hand")], ["annasong001"])
    finally:
        page.close_stdin_and_wait()


def test_nothing_is_journaled_or_shown_before_the_host_knows_whose_journal_it_is(tmp_path):
    data = tmp_path / "data"
    host = HostProcess(data)
    profile = profile_id()
    try:
        host.wait_for("hello")
        host.send({"type": "override_mood", "emotion": "happy"})  # chosen before set_profile
        host.wait_for("emotion", emotion="happy")
        host.send({"type": "played", "video_id": "early000001"})
        for asked in ("get_journal", "export_journal", "delete_journal"):
            host.send({"type": asked})
            error = host.wait_for("error")
            assert (
                error["code"] == "journal_error"
                and f"{asked} came before set_profile" in (error["message"])
            )
        host.send({"type": "set_retention", "days": 7})
        assert host.wait_for("error")["code"] == "journal_error"
        told = time.time()
        host.send({"type": "set_profile", "profile": profile})
        host.wait_for("calibrated")
        host.send({"type": "get_journal"})
        journal = host.wait_for("journal")
        [mood] = journal["moods"]
        assert mood["emotion"] == "happy" and mood["start"] >= told, "journaled from set_profile"
        assert journal["tracks"] == [] and journal["retention_days"] == 30
    finally:
        host.close_stdin_and_wait()
    with sqlite3.connect(data / DB_NAME) as db:
        owners = {row[0] for row in db.execute("SELECT profile FROM journal_moods")}
        assert owners == {profile}
        assert db.execute("SELECT count(*) FROM journal_tracks").fetchone()[0] == 0


def test_the_first_profile_to_connect_after_an_update_keeps_the_old_journal(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    old_store(data / DB_NAME, time.time())  # a store from before journals were per profile
    first, second = profile_id(), profile_id()
    host = HostProcess(data)
    try:
        assert serve(host, first) == OLD_MADE_AT, "the old calibration comes with it"
        assert journal_of(host) == ([("sad", "camera")], ["abcdef12345"])
        host.send({"type": "export_journal"})
        assert "Old favourite" in host.wait_for("journal_export")["csv"]
    finally:
        host.close_stdin_and_wait()
    host = HostProcess(data)
    try:
        assert serve(host, second) is None
        assert journal_of(host) == ([], [])
    finally:
        host.close_stdin_and_wait()
