"""Every state a new listener meets in the popup, in real Chromium with the real host: what it
says, a screenshot of it (docs/states/popup-*.png), and that the message goes when it stops
being true.

One browser serves the whole module, as one listener's would: the tests walk from "not
installed" to music playing, changing the registration, the camera setting and the host's music
store between them, in file order.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from host.commands import install
from host.music.store import DB_NAME
from tests.e2e.conftest import HOST_TIMEOUT, REPO, Moodtune, launch_chromium, register_host

SHOTS = REPO / "docs" / "states"
OTHER_EXTENSION = "abcdefghijklmnopabcdefghijklmnop"


class Listener(Moodtune):
    """The browser, plus what this module changes between states."""

    manifest: Path
    launcher: Path
    data_dir: Path

    def register(self, extension_id: str | None = install.EXTENSION_ID) -> None:
        """Register the host for `extension_id`; None: no registration at all."""
        if extension_id is None:
            self.manifest.unlink(missing_ok=True)
        else:
            install.write_manifest(self.manifest, self.launcher, [extension_id])


@pytest.fixture(scope="module")
def listener(playwright_instance, youtube_music, tmp_path_factory) -> Listener:
    _, port = youtube_music
    folder = tmp_path_factory.mktemp("popup-states")
    profile, data_dir = folder / "profile", folder / "data"
    data_dir.mkdir()
    environment = {"PYTHONPATH": str(REPO), "MOODTUNE_DATA_DIR": str(data_dir)}
    pid_file, log_file = register_host(profile, folder / "host", environment)
    manifest = profile / "NativeMessagingHosts" / f"{install.HOST_NAME}.json"
    launcher = Path(__import__("json").loads(manifest.read_text())["path"])
    manifest.unlink()  # a new listener starts with nothing installed
    context = launch_chromium(playwright_instance, profile, port)
    browser = Listener(context, youtube_music[0], pid_file, log_file)
    browser.manifest, browser.launcher, browser.data_dir = manifest, launcher, data_dir
    yield browser
    context.close()


@pytest.fixture(scope="module")
def faceless_video(tmp_path_factory) -> Path:
    """A camera-like video of an empty room: a lit wall, no face."""
    path = tmp_path_factory.mktemp("faceless") / "empty-room.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (320, 240))
    rng = np.random.default_rng(3)
    wall = np.linspace(90, 170, 320, dtype=np.uint8)[None, :, None].repeat(240, 0).repeat(3, 2)
    for _ in range(30):
        noise = rng.integers(0, 6, wall.shape, dtype=np.uint8)
        writer.write(cv2.add(wall, noise))
    writer.release()
    return path


@pytest.fixture
def popup(listener):
    page = listener.popup()
    yield page
    page.close()


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"popup-{name}.png", full_page=True)


def alert_of(popup):
    return popup.get_by_role("alert")


def camera_switch(popup):
    return popup.get_by_role("switch", name="Camera")


def wait_connected(popup) -> None:
    expect(popup.locator("#connection")).to_have_text("Connected", timeout=HOST_TIMEOUT)


def set_camera_on(popup, on: bool) -> None:
    switch = camera_switch(popup)
    expect(switch).to_be_enabled(timeout=HOST_TIMEOUT)
    switch.set_checked(on)


def test_not_installed_says_how_to_install_and_goes_once_installed(listener, popup):
    expect(popup.locator("#connection")).to_have_text("Not installed", timeout=HOST_TIMEOUT)
    alert = alert_of(popup)
    expect(alert.get_by_role("heading")).to_have_text("Install the moodtune program")
    expect(alert.locator("code")).to_have_text("pip install -e . && moodtune install")
    expect(popup.locator("#mood-card")).to_be_hidden()
    shoot(popup, "not-installed")

    listener.register()
    # The worker's own retry may find the program first; the alert and its button go with it.
    with contextlib.suppress(PlaywrightTimeoutError):
        popup.get_by_role("button", name="Try again").click(timeout=5_000)
    wait_connected(popup)
    expect(alert).to_be_hidden()


def test_forbidden_says_to_run_the_installer_and_goes_once_fixed(listener, popup):
    wait_connected(popup)
    listener.register(OTHER_EXTENSION)
    listener.kill_host()

    alert = alert_of(popup)
    expect(alert.get_by_role("heading")).to_have_text(
        "moodtune's program does not know this extension", timeout=HOST_TIMEOUT
    )
    expect(alert.locator("code")).to_have_text("moodtune install")
    shoot(popup, "forbidden")

    listener.register()
    popup.get_by_role("button", name="Try again").click()
    wait_connected(popup)
    expect(alert).to_be_hidden()


def test_a_stopped_host_is_said_and_the_message_goes_when_it_is_back(listener, popup):
    wait_connected(popup)
    listener.kill_host()

    expect(popup.locator("#connection")).to_have_text("Disconnected")
    alert = alert_of(popup)
    expect(alert.get_by_role("heading")).to_have_text("The moodtune program stopped")
    expect(popup.get_by_role("button", name="Reconnect now")).to_be_visible()
    shoot(popup, "disconnected")

    wait_connected(popup)
    expect(alert).to_be_hidden()


def test_connected_with_the_camera_off_says_what_it_would_watch(popup):
    wait_connected(popup)
    expect(popup.locator("#mood-label")).to_have_text("No mood yet")
    expect(popup.locator("#mood-detail")).to_have_text("The camera is off")
    expect(popup.locator("#watching")).to_have_text("Watches the webcam · Change")
    expect(popup.locator("#now-title")).to_have_text("Nothing playing yet")
    expect(popup.locator("#now-artists")).to_have_text(
        "Music starts once moodtune has read your mood, or when you pick a mood by hand."
    )
    expect(alert_of(popup)).to_be_hidden()
    shoot(popup, "camera-off")

    set_camera_on(popup, True)  # the webcam is missing here: the words change either way
    expect(popup.locator("#mood-detail")).not_to_have_text("The camera is off")
    set_camera_on(popup, False)
    expect(popup.locator("#mood-detail")).to_have_text("The camera is off")


def test_the_camera_switch_takes_enter(listener, popup):
    wait_connected(popup)
    listener.set_camera("63")  # no such device: nothing opens
    switch = camera_switch(popup)
    expect(switch).to_be_enabled()
    switch.focus()
    popup.keyboard.press("Enter")
    expect(switch).to_be_checked()
    popup.keyboard.press("Enter")
    expect(switch).not_to_be_checked()


def test_a_missing_webcam_points_to_settings_and_goes_when_the_camera_is_off(listener, popup):
    wait_connected(popup)
    listener.set_camera("63")
    set_camera_on(popup, True)

    alert = alert_of(popup)
    expect(alert.get_by_role("heading")).to_have_text(
        "Webcam 63 is not available", timeout=HOST_TIMEOUT
    )
    expect(alert).to_contain_text("choose a video file instead.")
    expect(alert.get_by_role("button")).to_have_text(["Try again", "Open Settings"])
    expect(popup.locator("#watching")).to_have_text("Watches webcam 63 · Change")
    shoot(popup, "camera-error-device")

    set_camera_on(popup, False)
    expect(alert).to_be_hidden()


def test_a_missing_video_file_gets_file_advice_and_goes_once_the_path_is_fixed(
    listener, popup, happy_face_video, tmp_path
):
    wait_connected(popup)
    missing = tmp_path / "missing.mp4"
    listener.set_camera(str(missing))
    set_camera_on(popup, True)

    alert = alert_of(popup)
    expect(alert.get_by_role("heading")).to_have_text(
        "The video file cannot be played", timeout=HOST_TIMEOUT
    )
    expect(alert).to_contain_text(f"moodtune cannot open {missing}.")
    expect(alert).not_to_contain_text("plug it in")
    expect(alert.get_by_role("button")).to_have_text(["Open Settings"])
    expect(popup.locator("#watching")).to_have_text("Watches missing.mp4 (a video file) · Change")
    shoot(popup, "camera-error-file")

    listener.set_camera(str(happy_face_video))
    expect(alert).to_be_hidden(timeout=HOST_TIMEOUT)
    set_camera_on(popup, False)


def test_no_face_in_view_says_so_until_a_face_appears(
    listener, popup, faceless_video, happy_face_video
):
    wait_connected(popup)
    listener.set_camera(str(faceless_video))
    set_camera_on(popup, True)

    expect(popup.locator("#mood-label")).to_have_text("No face in view", timeout=HOST_TIMEOUT)
    expect(popup.locator("#mood-detail")).to_have_text(
        "Face the camera in good light. The mood settles a few seconds after a face appears."
    )
    shoot(popup, "no-face")

    listener.set_camera(str(happy_face_video))
    expect(popup.locator("#mood-label")).to_have_text("Happy", timeout=HOST_TIMEOUT)


def test_unreachable_music_says_so_plainly_and_goes_when_the_camera_is_off(listener, popup):
    # The host's music store is empty and nothing outside this machine resolves.
    wait_connected(popup)
    set_camera_on(popup, True)
    alert = alert_of(popup)
    expect(alert.get_by_role("heading")).to_have_text(
        "YouTube Music cannot be reached", timeout=HOST_TIMEOUT
    )
    expect(alert.get_by_role("link", name="Search YouTube Music")).to_have_attribute(
        "href", re.compile(r"^https://music\.youtube\.com/search\?q=")
    )
    expect(alert).not_to_contain_text(re.compile(r"retrying|\d+ s\b|categories"))
    expect(popup.locator("#now-artists")).to_have_text("")
    shoot(popup, "music-unreachable")

    set_camera_on(popup, False)
    expect(alert).to_be_hidden()


def test_tracks_play_with_nothing_cut_short(listener, popup, music_database):
    wait_connected(popup)
    old_host = listener.kill_host()
    # The next host opens a store filled with recorded answers (the empty one's journal goes).
    for leftover in listener.data_dir.glob(f"{DB_NAME}*"):
        leftover.unlink()
    shutil.copy(music_database, listener.data_dir / DB_NAME)
    listener.wait_for_new_host(old_host, popup)
    wait_connected(popup)
    set_camera_on(popup, True)

    expect(popup.get_by_role("button", name="Pause")).to_be_visible(timeout=HOST_TIMEOUT)
    expect(popup.locator("#up-next li").first).to_be_visible()
    expect(popup.locator("#queue-for")).to_have_text("Happy · English")
    expect(alert_of(popup)).to_be_hidden()
    # Every line shows in full: nothing is wider than its box.
    cut = popup.evaluate(
        "[...document.querySelectorAll('.now-text p, .up-next p')]"
        ".filter((p) => p.scrollWidth > p.clientWidth + 1).map((p) => p.textContent)"
    )
    assert cut == []
    shoot(popup, "tracks")


def test_calibrating_shows_its_progress_and_goes_when_done(popup):
    # The camera still runs from the test before: the popup offers calibration.
    wait_connected(popup)
    card = popup.locator("#calibration-card")
    card.get_by_role("button", name="Calibrate to my face").click(timeout=HOST_TIMEOUT)

    expect(card.locator("#calibration-title")).to_have_text("Calibrating…")
    expect(card).to_contain_text("Look at the screen as you usually do for")
    shoot(popup, "calibrating")

    # The faces on this camera smile: the host says so, and the progress is gone.
    expect(card.locator("#calibration-title")).to_have_text(
        "That looked like a smile", timeout=HOST_TIMEOUT
    )
    expect(card.get_by_role("button", name="Try again")).to_be_visible()
    set_camera_on(popup, False)


def test_languages_are_listed_by_name(popup):
    wait_connected(popup)
    names = popup.locator("#language option").all_inner_texts()
    assert len(names) > 3
    assert names == sorted(names, key=str.casefold)
