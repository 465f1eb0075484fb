"""Calibration in the popup and the mood journal on the settings page, in real Chromium with the
real host (see conftest.py)."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from host.music.store import DB_NAME, Store
from host.session import OLD_SHARED_PROFILE
from tests.e2e.conftest import HOST_TIMEOUT, launch_browser
from training.videos import make_video

REPO = Path(__file__).resolve().parents[2]
PEOPLE = REPO / "tests" / "data" / "faces_by_person"
OTHER_PROFILE = "5d2f9c1e-7a3b-4e6d-8f10-2b4c6d8e0a13"


@pytest.fixture(scope="module")
def resting_face_video(tmp_path_factory) -> Path:
    """A camera-like video of one person's resting face (photos the model reads as angry/sad)."""
    folder = tmp_path_factory.mktemp("resting")
    (folder / "faces" / "neutral").mkdir(parents=True)
    for photo in sorted((PEOPLE / "neutral").glob("Bill_Graham__*")):
        shutil.copy(photo, folder / "faces" / "neutral")
    video = folder / "resting.mp4"
    make_video(folder / "faces", video, faces=3, seconds=4.0, seed=2)
    return video


def camera_on(popup) -> None:
    switch = popup.get_by_role("switch", name="Camera")
    expect(switch).to_be_enabled(timeout=HOST_TIMEOUT)
    switch.check()


def test_the_popup_offers_calibration_once_then_calibrates_and_resets(
    launch_moodtune, data_dir, resting_face_video
):
    browser = launch_moodtune({"MOODTUNE_DATA_DIR": str(data_dir)})
    browser.set_camera(str(resting_face_video))
    popup = browser.popup()
    card = popup.locator("#calibration-card")
    expect(popup.locator("#connection")).to_have_text("Connected", timeout=HOST_TIMEOUT)
    expect(card).to_be_hidden()
    camera_on(popup)
    expect(card).to_contain_text("look at the screen as you usually do", timeout=HOST_TIMEOUT)
    expect(card.get_by_role("button", name="Not now")).to_be_visible()

    card.get_by_role("button", name="Calibrate to my face").click()
    ring = popup.get_by_role("progressbar", name="Calibrating")
    expect(ring).to_be_visible()
    expect(card).to_contain_text("Look at the screen as you usually do for 5 seconds.")
    expect(popup.locator("#calibration-title")).to_have_text("Calibrated today", timeout=15000)
    expect(ring).to_be_hidden()
    expect(card.get_by_role("button", name="Not now")).to_be_hidden()

    popup.reload()  # offered once: a calibrated listener is not asked again
    expect(popup.locator("#calibration-title")).to_have_text("Calibrated today")
    card.get_by_role("button", name="Reset").click()
    # Not asked again: the card goes, and the footer keeps a quiet way to calibrate.
    expect(card).to_be_hidden()
    popup.locator("footer").get_by_role("button", name="Calibrate to my face").click()
    expect(popup.get_by_role("progressbar", name="Calibrating")).to_be_visible()
    expect(popup.locator("#calibration-title")).to_have_text("Calibrated today", timeout=15000)


def test_not_now_puts_the_offer_away(launch_moodtune, data_dir, resting_face_video):
    browser = launch_moodtune({"MOODTUNE_DATA_DIR": str(data_dir)})
    browser.set_camera(str(resting_face_video))
    popup = browser.popup()
    camera_on(popup)
    card = popup.locator("#calibration-card")
    card.get_by_role("button", name="Not now").click(timeout=HOST_TIMEOUT)
    expect(card).to_be_hidden()
    popup.reload()
    expect(
        popup.locator("footer").get_by_role("button", name="Calibrate to my face")
    ).to_be_visible(timeout=HOST_TIMEOUT)
    expect(card).to_be_hidden()


def test_a_smile_is_refused_with_what_to_do(launch_moodtune, data_dir, happy_face_video):
    browser = launch_moodtune({"MOODTUNE_DATA_DIR": str(data_dir)})
    browser.set_camera(str(happy_face_video))
    popup = browser.popup()
    camera_on(popup)
    card = popup.locator("#calibration-card")
    card.get_by_role("button", name="Calibrate to my face").click(timeout=HOST_TIMEOUT)
    expect(card).to_contain_text("That looked like a smile", timeout=15000)
    expect(card).to_contain_text("try again with your usual face")
    expect(card.get_by_role("button", name="Try again")).to_be_visible()
    expect(popup.get_by_role("alert")).to_be_hidden()  # in the card, not the popup's alert


def test_another_chrome_profile_on_the_computer_has_a_calibration_of_its_own(
    launch_moodtune, playwright_instance, youtube_music, tmp_path, data_dir, resting_face_video
):
    anna = launch_moodtune({"MOODTUNE_DATA_DIR": str(data_dir)})
    anna.set_camera(str(resting_face_video))
    annas_popup = anna.popup()
    camera_on(annas_popup)
    annas_card = annas_popup.locator("#calibration-card")
    annas_card.get_by_role("button", name="Calibrate to my face").click(timeout=HOST_TIMEOUT)
    title = annas_popup.locator("#calibration-title")
    expect(title).to_have_text("Calibrated today", timeout=15000)

    # Ben's Chrome profile: its own extension and host, the same moodtune data folder.
    ben = launch_browser(
        playwright_instance, youtube_music, tmp_path / "ben",
        {"MOODTUNE_DATA_DIR": str(data_dir)}, youtube_music[0].behaviour,
    )  # fmt: skip
    try:
        ben.set_camera(str(resting_face_video))
        bens_popup = ben.popup()
        camera_on(bens_popup)
        bens_card = bens_popup.locator("#calibration-card")
        expect(bens_card).to_contain_text(
            "look at the screen as you usually do", timeout=HOST_TIMEOUT
        )
        expect(bens_popup.locator("#calibration-title")).to_have_text("Calibrate to my face")
        bens_popup.reload()
        expect(bens_card.get_by_role("button", name="Not now")).to_be_visible(timeout=HOST_TIMEOUT)
        expect(bens_card).not_to_contain_text("Calibrated")
    finally:
        ben.context.close()
    annas_popup.reload()
    expect(title).to_have_text("Calibrated today", timeout=HOST_TIMEOUT)


def fill_journal(data_dir: Path) -> float:
    """Half an hour of moods and two tracks, early today; when it starts."""
    store = Store(data_dir / DB_NAME)
    morning = time.mktime((*time.localtime()[:3], 0, 1, 0, 0, 0, -1))  # 00:01 today
    # As a store from before calibrations and journals were per profile kept them: the first
    # profile to connect adopts them.
    mine = OLD_SHARED_PROFILE
    calm = store.start_mood(mine, "neutral", 0.7, "camera", at=morning)
    store.extend_mood(calm, at=morning + 1200)
    happy = store.start_mood(mine, "happy", 1.0, "hand", at=morning + 1200)
    store.extend_mood(happy, at=morning + 1800)
    store.add_played(mine, "abcdef12345", "Morning Song", ["The Larks"], "happy", at=morning + 1300)
    store.add_played(mine, "bcdefg23456", "Second Song", ["The Owls"], "happy", at=morning + 1500)
    offsets = [0.5, 0.0, 0.0, 0.0, 0.0, 0.5, 0.0]
    store.save_calibration(mine, {"offsets": offsets, "made_at": morning, "frames": 50}, morning)
    # Another Chrome profile's on this computer: never shown here, nor deleted from here.
    sad = store.start_mood(OTHER_PROFILE, "sad", 0.8, "camera", at=morning + 60)
    store.extend_mood(sad, at=morning + 3600)
    store.add_played(OTHER_PROFILE, "cdefgh34567", "Their Song", ["Them"], "sad", at=morning + 90)
    store.save_calibration(OTHER_PROFILE, {"offsets": offsets, "made_at": 1.0, "frames": 50}, 1.0)
    store.close()
    return morning


def test_the_journal_shows_the_day_and_week_exports_and_deletes(launch_moodtune, data_dir):
    fill_journal(data_dir)
    browser = launch_moodtune({"MOODTUNE_DATA_DIR": str(data_dir)})
    popup = browser.popup()
    expect(popup.locator("#connection")).to_have_text("Connected", timeout=HOST_TIMEOUT)
    expect(popup.locator("#calibration-title")).to_have_text("Calibrated today")
    hosts = browser.host_pids()  # the service worker's
    settings = browser.settings()
    expect(settings.get_by_role("button", name="Show my mood journal")).to_be_visible()
    settings.wait_for_timeout(1500)
    assert browser.host_pids() == hosts, "opening the settings alone starts no host"
    settings.close()
    with browser.context.expect_page() as opened:
        popup.get_by_role("link", name="Mood journal").click()
    page = opened.value
    journal = page.locator("#journal")
    timeline = page.get_by_role("list", name="Moods through the day").get_by_role("listitem")
    expect(timeline).to_have_count(2, timeout=HOST_TIMEOUT)
    expect(timeline.first).to_have_attribute("aria-label", re.compile(r"^Neutral .*camera"))
    expect(timeline.last).to_have_attribute("aria-label", re.compile(r"^Happy .*by hand"))
    played = page.get_by_role("list", name="Tracks played that day")
    expect(played).to_contain_text("Morning Song")
    expect(played).to_contain_text("The Larks · for happy")
    expect(played).not_to_contain_text("Their Song")
    week = page.get_by_role("list", name="Time per mood, day by day").get_by_role("listitem")
    expect(week).to_have_count(7)
    expect(week.last).to_have_attribute("aria-label", re.compile("Happy 10 min, Neutral 20 min"))
    expect(page.get_by_label("Keep the journal for")).to_have_value("30")

    page.get_by_label("Keep the journal for").select_option("90")
    expect(journal).to_contain_text("The journal now keeps 90 days.")

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export as CSV").click()
    download = download_info.value
    assert re.fullmatch(r"moodtune-journal-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text())))
    assert [(r["kind"], r["emotion"], r["title"]) for r in rows] == [
        ("mood", "neutral", ""), ("mood", "happy", ""),
        ("track", "happy", "Morning Song"), ("track", "happy", "Second Song"),
    ]  # fmt: skip

    page.get_by_role("button", name="Delete everything").click()
    expect(page.get_by_role("alertdialog")).to_contain_text("cannot be undone")
    page.get_by_role("button", name="Delete for good").click()
    expect(journal).to_contain_text("Deleted.", timeout=HOST_TIMEOUT)
    expect(timeline).to_have_count(0)
    # The calibration went too, in the host that watches the camera as well.
    expect(popup.locator("#calibration-card")).to_be_hidden()
    with sqlite3.connect(data_dir / DB_NAME) as db:
        owners = ("SELECT DISTINCT profile FROM journal_moods UNION "
                  "SELECT DISTINCT profile FROM journal_tracks UNION "
                  "SELECT profile FROM calibration")  # fmt: skip
        assert {row[0] for row in db.execute(owners)} == {OTHER_PROFILE}, "theirs stays"
    on_disk = b"".join(p.read_bytes() for p in data_dir.iterdir() if p.name.startswith(DB_NAME))
    assert b"Morning Song" not in on_disk and b"Their Song" in on_disk


def test_the_demo_page_calibrates_too(playwright_instance, tmp_path, resting_face_video):
    environment = {**os.environ, "MOODTUNE_DATA_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "host", "demo", "--camera", str(resting_face_video),
               "--no-browser"]  # fmt: skip
    with subprocess.Popen(
        command, cwd=REPO, env=environment, stdout=subprocess.PIPE, text=True
    ) as demo:
        browser = playwright_instance.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            assert demo.stdout is not None
            url = demo.stdout.readline().split("open ", 1)[1].strip()
            page = browser.new_page()
            page.goto(url)
            card = page.locator("#calibration")
            expect(card.get_by_role("button", name="Not now")).to_be_visible(timeout=HOST_TIMEOUT)
            card.get_by_role("button", name="Calibrate to my face").click()
            expect(page.get_by_role("progressbar", name="Calibrating")).to_be_visible()
            expect(page.locator("#calibration-title")).to_have_text(
                "Calibrated today", timeout=15000
            )
            card.get_by_role("button", name="Reset").click()
            expect(page.locator("#calibration-title")).to_have_text("Calibrate to my face")
            expect(card.get_by_role("button", name="Not now")).to_be_hidden()  # offered once
        finally:
            browser.close()
            demo.send_signal(signal.SIGINT)
            demo.wait(timeout=15)
