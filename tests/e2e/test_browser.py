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
from ytmusic_standin import Behaviour

from tests.e2e.conftest import HOST_TIMEOUT


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


def wait_until_playing(player, video_id: str, timeout: float = HOST_TIMEOUT) -> None:
    """Until the tab's player plays `video_id` itself (not an ad), past its first moments."""
    player.wait_for_function(
        """(id) => {
          const movie = document.querySelector('#movie_player');
          const video = document.querySelector('video.html5-main-video');
          const held = movie?.getVideoData?.().video_id
            ?? new URLSearchParams(location.search).get('v');
          return held === id && video && !video.paused && video.currentTime > 0.2
            && !movie.classList.contains('ad-showing');
        }""",
        arg=video_id,
        polling=100,
        timeout=timeout,
    )


def test_popup_shows_connected_and_the_mood_the_host_detected(moodtune):
    popup = moodtune.popup()
    expect(popup.locator("#connection")).to_have_text("Connected", timeout=HOST_TIMEOUT)
    expect(popup.locator("#mood-detail")).to_have_text("The camera is off")

    turn_camera_on(popup)

    expect(popup.locator("#mood-label")).to_have_text("Happy", timeout=HOST_TIMEOUT)
    expect(popup.locator("#mood-detail")).to_have_text(re.compile(r"^\d+% sure$"))
    recent = popup.get_by_role("list", name="Recent moods").get_by_role("listitem")
    expect(recent.last).to_have_attribute("aria-label", re.compile(r"^Happy at "))


@pytest.mark.parametrize("player_api", [True, False], ids=["in-page", "page-per-track"])
def test_the_tab_plays_the_first_track_and_the_next_when_it_ends(
    launch_moodtune, data_dir, happy_face_video, player_api
):
    # Without the player's API (an older or changed page) each track loads its own page.
    moodtune = launch_moodtune(
        {"MOODTUNE_DATA_DIR": str(data_dir)}, Behaviour(player_api=player_api)
    )
    moodtune.set_camera(str(happy_face_video))
    popup = moodtune.popup()
    turn_camera_on(popup)
    expect(popup.locator("#now-title")).not_to_have_text(
        "Nothing playing yet", timeout=HOST_TIMEOUT
    )
    first_title = popup.locator("#now-title").inner_text()
    next_title = up_next_titles(popup)[0]

    player = moodtune.player()
    first_id = moodtune.stored_state(popup)["nowPlaying"]["video_id"]
    wait_until_playing(player, first_id)
    expect(popup.get_by_role("button", name="Pause")).to_be_visible(timeout=HOST_TIMEOUT)
    player.evaluate("window.moodtuneTestMarker = 'still the same page'")

    # The stand-in's tracks last seconds; when the first ends, the one shown next follows.
    expect(popup.locator("#now-title")).to_have_text(next_title, timeout=HOST_TIMEOUT)
    assert next_title != first_title
    second_id = moodtune.stored_state(popup)["nowPlaying"]["video_id"]
    wait_until_playing(player, second_id)
    assert moodtune.youtube_music.watched[-2:] == [first_id, second_id]
    marker = player.evaluate("window.moodtuneTestMarker ?? null")
    if player_api:
        assert marker == "still the same page"  # no page load between tracks
    else:
        assert marker is None
        expect(player).to_have_url(re.compile(rf"/watch\?v={re.escape(second_id)}$"))
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
    wait_until_playing(moodtune.player(), now_playing)


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
    after_skip = moodtune.stored_state(popup)["nowPlaying"]["video_id"]
    assert after_skip != skipped
    wait_until_playing(moodtune.player(), after_skip)


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


# A browser slow to answer the popup's second read (prefs), as a loaded machine can be: the
# host's hello lands in storage between the popup's two reads.
SLOW_PREFS_READ_S = 5
SLOW_PREFS_READ = f"""
if (location.protocol === 'chrome-extension:' && location.pathname === '/popup.html') {{
  const read = chrome.storage.local.get.bind(chrome.storage.local);
  chrome.storage.local.get = (keys) =>
    new Promise((done) => setTimeout(done, {SLOW_PREFS_READ_S * 1000})).then(() => read(keys));
}}
"""


def test_a_popup_opened_while_the_host_starts_shows_it_connected(launch_moodtune, data_dir):
    browser = launch_moodtune({"MOODTUNE_DATA_DIR": str(data_dir)})
    browser.context.add_init_script(SLOW_PREFS_READ)
    popup = browser.popup()  # at once: the host is still loading its model
    popup.wait_for_timeout((SLOW_PREFS_READ_S + 1) * 1000)  # both reads are in
    expect(popup.get_by_role("switch", name="Camera")).to_be_enabled(timeout=HOST_TIMEOUT)
    expect(popup.locator("#connection")).to_have_text("Connected")


def test_a_host_that_dies_on_start_is_not_restarted_into_the_same_failure(launch_moodtune):
    # A host that says hello, then dies as soon as it is told to start the camera.
    browser = launch_moodtune({}, host_program=Path(__file__).with_name("crashing_host.py"))
    popup = browser.popup()
    turn_camera_on(popup)

    # Started again once, and not told to start the camera again: it stays up, and the
    # listener is told why the camera is not on.
    alert = popup.get_by_role("alert")
    expect(alert).to_contain_text("did not start it again", timeout=HOST_TIMEOUT)
    expect(popup.locator("#connection")).to_have_text("Connected")
    popup.wait_for_timeout(4000)
    assert len(browser.host_pids()) == 2

    # Asked again, it is tried again, once, and held again.
    alert.get_by_role("button", name="Try again").click()
    expect(popup.locator("#connection")).to_have_text("Disconnected")
    expect(alert).to_contain_text("did not start it again", timeout=HOST_TIMEOUT)
    popup.wait_for_timeout(4000)
    assert len(browser.host_pids()) == 3


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
    # The popup names the track as the tab is told to play it; the tab fetches it after.
    wait_until_playing(moodtune.player(), moodtune.stored_state(popup)["nowPlaying"]["video_id"])
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
