"""Every state a newcomer meets on the `moodtune demo` page, in real Chromium with the real
`moodtune demo` command: what it says, a screenshot (docs/states/demo-*.png), and that the
message goes when it stops being true; and the page at a phone's 390 px width.

Nothing outside this machine resolves, so YouTube Music and its artwork are unreachable, as
offline; the demo with music answers from a store filled with recorded responses.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from playwright.sync_api import expect

from host.music.store import DB_NAME
from tests.e2e.conftest import CHROMIUM, REPO, SECONDS

WAIT = 30 * SECONDS
SHOTS = REPO / "docs" / "states"
NO_SUCH_CAMERA = "63"
MOODS = re.compile(r"^(Angry|Disgust|Fear|Happy|Neutral|Sad|Surprise)$")


class Demo:
    """`moodtune demo --no-browser` running in a process of its own."""

    def __init__(self, camera: str, data_dir: Path) -> None:
        env = {**os.environ, "MOODTUNE_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "host", "demo", "--no-browser", "--camera", camera],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        found = re.search(r"open (http://127\.0\.0\.1:\d+/\?token=\S+)", first)
        assert found, first
        self.url = found.group(1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def browser(playwright_instance):
    chromium = playwright_instance.chromium.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        ],
    )
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def offline_demo(tmp_path_factory):
    """The demo without a webcam (camera 63 does not exist) and with no music saved."""
    demo = Demo(NO_SUCH_CAMERA, tmp_path_factory.mktemp("demo-offline"))
    yield demo
    demo.stop()


@pytest.fixture(scope="module")
def offline_page(browser, offline_demo):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(offline_demo.url)
    yield page
    page.close()


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"demo-{name}.png", full_page=True)


def banner(page, key: str):
    return page.locator(f'.banner[data-key="{key}"]')


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page is {width} px wide"


def test_no_webcam_offers_the_sample_and_the_message_goes_once_it_plays(offline_page):
    page = offline_page
    camera = banner(page, "camera")
    expect(camera.locator("strong")).to_have_text("Webcam 63 is not available", timeout=WAIT)
    expect(camera).to_contain_text("choose a video file instead.")
    expect(camera.get_by_role("button")).to_have_text(["Try again", "Play the sample video"])
    expect(page.locator("#status-text")).to_have_text("Camera problem")
    expect(page.locator("#pause")).to_be_disabled()
    shoot(page, "camera-error")

    camera.get_by_role("button", name="Play the sample video").click()

    expect(page.locator("#status-text")).to_have_text("Watching · sample video", timeout=WAIT)
    expect(camera).to_have_count(0)
    expect(page.locator("#mood-name")).to_have_text(MOODS, timeout=WAIT)
    expect(page.locator("#mood-detail")).to_have_text(re.compile(r"^\d+% sure · from the camera$"))


def test_unreachable_music_is_said_once_in_the_same_words_everywhere(offline_page):
    page = offline_page
    music = banner(page, "music")
    expect(music.locator("strong")).to_have_text("YouTube Music cannot be reached", timeout=WAIT)
    expect(music.get_by_role("link", name="Search YouTube Music ↗")).to_have_attribute(
        "href", re.compile(r"^https://music\.youtube\.com/search\?q=")
    )
    expect(page.locator("#tracks")).to_have_text("No tracks yet: YouTube Music cannot be reached.")
    expect(page.locator("#tracks")).not_to_contain_text("found nothing")
    expect(page.locator("body")).not_to_contain_text(re.compile(r"retrying|\d+ s\)|categories"))
    shoot(page, "music-unreachable")


def test_pause_shows_the_last_mood_as_the_last_one_and_clears_music_news(offline_page):
    page = offline_page
    expect(page.locator("#mood-name")).to_have_text(MOODS, timeout=WAIT)
    page.get_by_role("button", name="Pause").click()

    expect(page.locator("#status-text")).to_have_text("Paused", timeout=WAIT)
    expect(page.locator("#mood-card")).to_have_class(re.compile(r"\bstale\b"))
    expect(page.locator("#mood-detail")).to_have_text(
        "The camera is paused. This is the last mood it read."
    )
    expect(page.locator("#pause")).to_be_disabled()
    expect(page.locator("#preview-message")).to_have_text("The camera is paused")
    expect(banner(page, "music")).to_have_count(0)
    expect(page.locator("#tracks")).not_to_contain_text("cannot be reached")
    shoot(page, "paused")

    page.get_by_role("button", name="Sample video").click()
    expect(page.locator("#mood-card")).not_to_have_class(re.compile(r"\bstale\b"), timeout=WAIT)


def test_no_face_in_view_says_so(browser, tmp_path):
    video = tmp_path / "empty-room.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 10, (320, 240))
    for _ in range(20):
        writer.write(np.full((240, 320, 3), 120, np.uint8))
    writer.release()
    demo = Demo(str(video), tmp_path)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    try:
        page.goto(demo.url)
        expect(page.locator("#status-text")).to_have_text("Watching · empty-room.mp4", timeout=WAIT)
        expect(page.locator("#mood-name")).to_have_text("No face in view")
        expect(page.locator("#mood-detail")).to_have_text(
            "Face the camera in good light. The mood settles a few seconds after a face appears."
        )
        expect(page.locator("#live-note")).to_have_text("no face in view")
        shoot(page, "no-face")
    finally:
        page.close()
        demo.stop()


@pytest.fixture(scope="module")
def music_demo(tmp_path_factory, music_database):
    data_dir = tmp_path_factory.mktemp("demo-music")
    shutil.copy(music_database, data_dir / DB_NAME)
    demo = Demo("sample", data_dir)
    yield demo
    demo.stop()


def test_tracks_show_drawn_placeholders_offline_and_fit_a_phone(browser, music_demo):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    try:
        page.goto(music_demo.url)
        # Pinned by hand, the mood (and so the tracks) stays while the sample's faces change.
        page.locator("#override").get_by_role("button", name="Happy").click()
        expect(page.locator("#tracks-for")).to_have_text(
            re.compile(r"^for Happy · English · "), timeout=WAIT
        )
        expect(page.locator("#tracks .track").first).to_be_visible()
        # The artwork cannot load offline: once tried, each card shows the mood's face, and no
        # broken image is left.
        for card in page.locator("#tracks .track").all():
            card.scroll_into_view_if_needed()  # the artwork loads lazily, as it comes into view
        expect(page.locator("#tracks img")).to_have_count(0, timeout=WAIT)
        cards = page.locator("#tracks .art").count()
        assert cards > 0 and page.locator("#tracks .art svg").count() == cards
        page.locator("header").scroll_into_view_if_needed()
        # The moods are drawn, not emoji.
        assert page.locator("#override button svg").count() == 7
        assert page.locator("#live svg").count() == 7
        no_sideways_scroll(page)
        expect(page.get_by_label("Mode")).to_be_in_viewport()
        shoot(page, "tracks-390px")
    finally:
        page.close()


def test_a_stopped_demo_says_so_and_nothing_looks_live(browser, music_demo):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(music_demo.url)
    expect(page.locator("#mood-name")).to_have_text(MOODS, timeout=WAIT)

    music_demo.stop()

    stopped = banner(page, "connection")
    expect(stopped.locator("strong")).to_have_text("The demo has stopped", timeout=WAIT)
    expect(stopped.locator("code")).to_have_text("moodtune demo")
    expect(page.locator("#status-text")).to_have_text("Demo stopped")
    expect(page.locator("#mood-card")).to_have_class(re.compile(r"\bstale\b"))
    expect(page.locator("#mood-detail")).to_have_text(
        "The demo has stopped. This is the last mood it read."
    )
    for control in ("#language", "#mode", "#use-webcam", "#pause"):
        expect(page.locator(control)).to_be_disabled()
    expect(page.locator("#override button").first).to_be_disabled()
    shoot(page, "stopped")
    page.close()
