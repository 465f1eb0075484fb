"""The extension in real Chromium with the real host: what a listener sees and hears.

Each test starts its own browser and host. The host watches a video of real happy faces
(FER-2013) as its camera and answers music from a cache filled with recorded YouTube Music
responses; the player tab plays the stand-in YouTube Music (see conftest.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path("/usr/bin/chromium").exists(),
        reason="needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium)",
    ),
]

SECONDS = 1000  # Playwright timeouts are in milliseconds
# The host loads its model and opens the video within a few seconds, even on a busy machine.
HOST_TIMEOUT = 30 * SECONDS


@pytest.fixture
def moodtune(launch_moodtune, data_dir, happy_face_video):
    browser = launch_moodtune({"MOODTUNE_DATA_DIR": str(data_dir)})
    browser.set_camera(str(happy_face_video))
    return browser


def turn_camera_on(popup) -> None:
    switch = popup.get_by_role("switch", name="Camera")
    expect(switch).to_be_enabled(timeout=HOST_TIMEOUT)
    switch.check()


def up_next_titles(popup) -> list[str]:
    return popup.locator("#up-next .title").all_inner_texts()


def test_popup_shows_connected_and_the_mood_the_host_detected(moodtune):
    popup = moodtune.popup()
    expect(popup.locator("#connection")).to_have_text("Connected", timeout=HOST_TIMEOUT)
    expect(popup.locator("#mood-detail")).to_have_text("The camera is off")

    turn_camera_on(popup)

    expect(popup.locator("#mood-label")).to_have_text("Happy", timeout=HOST_TIMEOUT)
    expect(popup.locator("#mood-detail")).to_have_text(re.compile(r"^\d+% sure$"))
    recent = popup.get_by_role("list", name="Recent moods").get_by_role("listitem")
    expect(recent.last).to_have_attribute("aria-label", re.compile(r"^Happy at "))


def test_the_tab_plays_the_first_track_and_the_next_when_it_ends(moodtune):
    popup = moodtune.popup()
    turn_camera_on(popup)
    expect(popup.locator("#now-title")).not_to_have_text(
        "Nothing playing yet", timeout=HOST_TIMEOUT
    )
    first_title = popup.locator("#now-title").inner_text()
    next_title = up_next_titles(popup)[0]

    player = moodtune.player()
    first_id = moodtune.stored_state(popup)["nowPlaying"]["video_id"]
    expect(player).to_have_url(
        re.compile(rf"/watch\?v={re.escape(first_id)}$"), timeout=HOST_TIMEOUT
    )
    expect(popup.get_by_role("button", name="Pause")).to_be_visible(timeout=HOST_TIMEOUT)
    player.wait_for_function("document.querySelector('video').currentTime > 0")

    # The stand-in's tracks last seconds; when the first ends, the one shown next follows.
    expect(popup.locator("#now-title")).to_have_text(next_title, timeout=HOST_TIMEOUT)
    assert next_title != first_title
    expect(player).not_to_have_url(re.compile(re.escape(first_id)), timeout=HOST_TIMEOUT)
    second_id = moodtune.stored_state(popup)["nowPlaying"]["video_id"]
    assert moodtune.youtube_music.watched[-2:] == [first_id, second_id]
    expect(popup.get_by_role("alert")).to_be_hidden()


def test_changing_the_language_brings_a_new_queue_at_once(moodtune):
    popup = moodtune.popup()
    turn_camera_on(popup)
    expect(popup.locator("#queue-for")).to_have_text("Happy · English", timeout=HOST_TIMEOUT)
    english = up_next_titles(popup)

    popup.get_by_label("Language").select_option(label="Hindi")

    expect(popup.locator("#queue-for")).to_have_text("Happy · Hindi", timeout=HOST_TIMEOUT)
    hindi = up_next_titles(popup)
    assert hindi and hindi != english
    # The listener asked for it: the new queue starts now, not after the current track.
    now_playing = moodtune.stored_state(popup)["nowPlaying"]["video_id"]
    expect(moodtune.player()).to_have_url(
        re.compile(rf"v={re.escape(now_playing)}$"), timeout=HOST_TIMEOUT
    )


def test_a_new_mood_waits_for_the_current_track_to_end(moodtune):
    popup = moodtune.popup()
    turn_camera_on(popup)
    expect(popup.locator("#queue-for")).to_have_text("Happy · English", timeout=HOST_TIMEOUT)
    # Just after a track starts, seconds of it are left.
    happy_track = up_next_titles(popup)[0]
    expect(popup.locator("#now-title")).to_have_text(happy_track, timeout=HOST_TIMEOUT)

    popup.get_by_label("Mood", exact=True).select_option(label="Sad")

    expect(popup.locator("#mood-label")).to_have_text("Sad")
    expect(popup.locator("#mood-detail")).to_have_text("Set by you")
    expect(popup.locator("#queue-for")).to_have_text("Sad · English")
    expect(popup.locator("#now-title")).to_have_text(happy_track)
    first_sad_track = up_next_titles(popup)[0]
    expect(popup.locator("#now-title")).to_have_text(first_sad_track, timeout=HOST_TIMEOUT)


def test_skip_moves_on_and_like_is_shown(moodtune):
    popup = moodtune.popup()
    turn_camera_on(popup)
    expect(popup.get_by_role("button", name="Pause")).to_be_visible(timeout=HOST_TIMEOUT)
    like = popup.get_by_role("button", name="Like")
    expect(like).to_have_attribute("aria-pressed", "false")
    like.click()
    expect(like).to_have_attribute("aria-pressed", "true")

    skipped = moodtune.stored_state(popup)["nowPlaying"]["video_id"]
    next_title = up_next_titles(popup)[0]
    popup.get_by_role("button", name="Skip").click()

    expect(popup.locator("#now-title")).to_have_text(next_title)
    expect(like).to_have_attribute("aria-pressed", "false")
    expect(moodtune.player()).not_to_have_url(re.compile(re.escape(skipped)), timeout=HOST_TIMEOUT)


def test_killing_the_host_shows_disconnected_and_the_worker_reconnects(moodtune):
    popup = moodtune.popup()
    turn_camera_on(popup)
    expect(popup.locator("#mood-label")).to_have_text("Happy", timeout=HOST_TIMEOUT)
    first_host = moodtune.host_pids()[-1]

    moodtune.kill_host()

    expect(popup.locator("#connection")).to_have_text("Disconnected")
    expect(popup.get_by_role("alert")).to_contain_text("The moodtune program stopped")
    expect(popup.locator("#connection")).to_have_text("Connected", timeout=HOST_TIMEOUT)
    assert moodtune.host_pids()[-1] != first_host
    expect(popup.get_by_role("alert")).to_be_hidden()
    # The camera was on, so the new host is told to start it again.
    expect(popup.get_by_role("switch", name="Camera")).to_be_checked()
    popup.wait_for_function(
        "chrome.storage.session.get('state').then((s) => s.state.status?.state === 'camera')",
        polling=200,
        timeout=HOST_TIMEOUT,
    )


def test_a_restarted_worker_picks_up_where_it_was(moodtune):
    popup = moodtune.popup()
    turn_camera_on(popup)
    expect(popup.get_by_role("button", name="Pause")).to_be_visible(timeout=HOST_TIMEOUT)
    first_host = moodtune.host_pids()[-1]
    tracks_started = len(moodtune.youtube_music.watched)

    moodtune.stop_worker(popup)
    popup.close()
    popup = moodtune.popup()

    # The old worker's port closed with it; opening the popup starts a worker, and a host.
    moodtune.wait_for_new_host(first_host, popup)
    expect(popup.locator("#connection")).to_have_text("Connected", timeout=HOST_TIMEOUT)
    expect(popup.locator("#mood-label")).to_have_text("Happy")
    # The queue and the player tab were kept: when the track ends, the next one plays.
    expect(popup.locator("#up-next li").first).to_be_visible()
    next_title = up_next_titles(popup)[0]
    expect(popup.locator("#now-title")).to_have_text(next_title, timeout=HOST_TIMEOUT)
    assert len(moodtune.youtube_music.watched) > tracks_started


def test_without_the_host_the_popup_says_how_to_install_it(launch_moodtune):
    browser = launch_moodtune(None)
    popup = browser.popup()
    expect(popup.locator("#connection")).to_have_text("Not installed", timeout=HOST_TIMEOUT)
    alert = popup.get_by_role("alert")
    expect(alert).to_contain_text("Install the moodtune program")
    expect(alert.locator("code")).to_have_text("pip install -e . && moodtune install")
    expect(popup.get_by_role("button", name="Try again")).to_be_visible()


def test_the_settings_page_shows_what_was_saved(moodtune, happy_face_video):
    page = moodtune.settings()
    expect(page.get_by_label("Camera to watch")).to_have_value(str(happy_face_video))
    page.get_by_label("Switch songs as soon as my mood changes").check()
    expect(page.get_by_text("Saved.")).to_be_visible()

    page.reload()
    expect(page.get_by_label("Switch songs as soon as my mood changes")).to_be_checked()
    expect(page.get_by_label("Camera to watch")).to_have_value(str(happy_face_video))
