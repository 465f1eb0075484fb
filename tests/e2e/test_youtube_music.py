"""What the real YouTube Music does to a day of music, on the stand-in that models it: ads,
"Continue watching?", a tab that cannot load, autoplay refused, the listener's own choices.

The music starts from a mood set by hand (no camera needed); the host answers from recorded
YouTube Music responses, the player tab plays the stand-in (ytmusic_standin.py).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from playwright.sync_api import expect
from ytmusic_standin import Behaviour

from host.music.store import DB_NAME
from tests.e2e.conftest import HOST_TIMEOUT, SECONDS

PLAYING_NOW = """() => {
  const movie = document.querySelector('#movie_player');
  const video = document.querySelector('video.html5-main-video');
  if (!video || video.paused || movie.classList.contains('ad-showing')) return null;
  return movie.getVideoData?.().video_id ?? new URLSearchParams(location.search).get('v');
}"""


def start_music(moodtune, mood: str = "Happy"):
    """Set the mood by hand in the popup, which starts the music; the popup."""
    popup = moodtune.popup()
    override = popup.get_by_label("Mood", exact=True)
    expect(override).to_be_enabled(timeout=HOST_TIMEOUT)
    override.select_option(label=mood)
    expect(popup.locator("#now-title")).not_to_have_text(
        "Nothing playing yet", timeout=HOST_TIMEOUT
    )
    return popup


def now_playing_id(moodtune, popup) -> str:
    return moodtune.stored_state(popup)["nowPlaying"]["video_id"]


def wait_until_playing(player, video_id: str, timeout: float = HOST_TIMEOUT) -> None:
    """Until the tab plays `video_id` itself (not an ad)."""
    player.wait_for_function(
        f"(id) => ({PLAYING_NOW})() === id", arg=video_id, polling=100, timeout=timeout
    )


@pytest.fixture
def launch(launch_moodtune, data_dir):
    def launch(behaviour: Behaviour, **options):
        return launch_moodtune({"MOODTUNE_DATA_DIR": str(data_dir)}, behaviour, **options)

    return launch


def unplayable_in_host_store(data_dir: Path) -> set[str]:
    """What the host's music store holds as unplayable (read beside the running host)."""
    with closing(sqlite3.connect(data_dir / DB_NAME)) as database:
        return {row[0] for row in database.execute("SELECT video_id FROM unplayable")}


def test_an_ad_is_shown_as_an_ad_and_the_track_plays_after_it(launch):
    # The page would ask "Continue watching?" after 2 s without activity; moodtune keeps its
    # activity clock fresh, so the question never comes.
    moodtune = launch(Behaviour(ad_first=True, you_there_after_s=2.0))
    popup = start_music(moodtune)
    track = now_playing_id(moodtune, popup)

    status = popup.locator("#player-status")
    expect(status).to_have_text("Ad playing — your track is next", timeout=HOST_TIMEOUT)
    expect(popup.locator("#now-title")).to_have_text(
        moodtune.stored_state(popup)["nowPlaying"]["title"]
    )

    player = moodtune.player()
    wait_until_playing(player, track)
    expect(status).to_be_hidden()
    expect(popup.get_by_role("button", name="Pause")).to_be_visible()
    # The ad's end was not taken for the track's: the track is still the one it was.
    assert now_playing_id(moodtune, popup) == track
    assert player.evaluate("standin.adsPlayed") == 1
    state = moodtune.stored_state(popup)
    assert state["player"]["playedVideoId"] == track

    # It plays to its end and the next follows, through seconds without any activity.
    next_title = popup.locator("#up-next .title").first.inner_text()
    expect(popup.locator("#now-title")).to_have_text(next_title, timeout=HOST_TIMEOUT)
    wait_until_playing(player, now_playing_id(moodtune, popup))
    assert player.evaluate("standin.youThereOpened") == 0


def test_music_keeps_playing_through_continue_watching(launch):
    # This page asks after 1.5 s of no real input, whatever its activity clock says, so the
    # question does come; moodtune answers it and the music plays on.
    moodtune = launch(Behaviour(you_there_after_s=1.5, you_there_watches_activity=False))
    popup = start_music(moodtune)
    first = now_playing_id(moodtune, popup)
    player = moodtune.player()
    wait_until_playing(player, first)

    player.wait_for_function("standin.youThereOpened >= 1", polling=100, timeout=HOST_TIMEOUT)
    # Answered, and playing again, with no pause shown.
    player.wait_for_function(
        "!document.querySelector('ytmusic-you-there-renderer')", polling=100, timeout=2 * SECONDS
    )
    wait_until_playing(player, first, timeout=2 * SECONDS)
    expect(popup.locator("#you-there-count")).to_contain_text(
        "answered for you", timeout=5 * SECONDS
    )
    assert moodtune.stored_state(popup)["player"]["youThereCount"] >= 1
    assert moodtune.stored_state(popup)["player"]["userPaused"] is False
    expect(popup.get_by_role("button", name="Pause")).to_be_visible()
    # And on to the next track.
    next_title = popup.locator("#up-next .title").first.inner_text()
    expect(popup.locator("#now-title")).to_have_text(next_title, timeout=HOST_TIMEOUT)

    # A pause the listener makes in the tab is still theirs: a click there (which also holds
    # off the next question), a moment after the last question was answered.
    wait_until_playing(player, now_playing_id(moodtune, popup))
    asked = player.evaluate("standin.youThereOpened")
    player.wait_for_function(f"standin.youThereOpened > {asked}", polling=50)
    player.wait_for_timeout(1100)
    player.mouse.click(5, 5)
    player.evaluate("document.querySelector('video').pause()")
    expect(popup.get_by_role("button", name="Play")).to_be_visible()
    player.wait_for_timeout(2000)
    assert player.evaluate(PLAYING_NOW) is None


def test_a_failed_load_is_shown_with_retry_and_retry_recovers(launch):
    moodtune = launch(Behaviour(failing=True))
    popup = start_music(moodtune)
    track = moodtune.stored_state(popup)["nowPlaying"]

    alert = popup.get_by_role("alert")
    expect(alert).to_contain_text("YouTube Music did not load", timeout=10 * SECONDS)
    # The track is not shown as playing; it is kept for when YouTube Music works.
    expect(popup.locator("#now-title")).to_have_text("Not playing")
    expect(popup.locator("#now-artists")).to_contain_text(track["title"])
    expect(popup.get_by_role("button", name="Play")).to_be_visible()
    assert moodtune.stored_state(popup)["nowPlaying"]["video_id"] == track["video_id"]

    moodtune.youtube_music.behaviour.failing = False
    alert.get_by_role("button", name="Retry").click()

    wait_until_playing(moodtune.player(), track["video_id"])
    expect(alert).to_be_hidden()
    expect(popup.locator("#now-title")).to_have_text(track["title"])


def test_blocked_autoplay_asks_for_a_click_and_plays_after_it(launch):
    moodtune = launch(Behaviour(), autoplay_allowed=False)
    popup = start_music(moodtune)
    track = now_playing_id(moodtune, popup)

    alert = popup.get_by_role("alert")
    expect(alert).to_contain_text(
        "Click once in the YouTube Music tab to allow sound", timeout=HOST_TIMEOUT
    )
    alert.get_by_role("button", name="Show the tab").click()
    player = moodtune.player()
    player.wait_for_function("document.visibilityState === 'visible'", polling=100)

    player.mouse.click(5, 5)

    wait_until_playing(player, track)
    expect(alert).to_be_hidden()


def test_the_listeners_own_song_stops_moodtune_driving_until_they_resume(launch):
    moodtune = launch(Behaviour())
    popup = start_music(moodtune)
    ours = now_playing_id(moodtune, popup)
    player = moodtune.player()
    wait_until_playing(player, ours)

    # The listener opens another song's page in the tab.
    player.goto("https://music.youtube.com/watch?v=ListenersOwn1")

    wait_until_playing(player, "ListenersOwn1")
    status = popup.locator("#player-status")
    expect(status).to_contain_text("You're choosing")
    player.wait_for_timeout(1500)
    assert player.evaluate(PLAYING_NOW) == "ListenersOwn1"  # not replaced by moodtune's track
    assert now_playing_id(moodtune, popup) == ours  # moodtune's queue is kept

    status.get_by_role("button", name="Resume moodtune").click()

    wait_until_playing(player, ours)
    expect(status).to_be_hidden()
    ours = now_playing_id(moodtune, popup)

    # The same when they pick a song inside the app, without a page load.
    player.evaluate("standin.listenerPicks('ListenersOwn2')")
    expect(status).to_contain_text("You're choosing")
    assert player.evaluate(PLAYING_NOW) in ("ListenersOwn2", None)  # playing, or about to
    status.get_by_role("button", name="Resume moodtune").click()
    wait_until_playing(player, now_playing_id(moodtune, popup))

    # Closing the tab stops the music; it comes back only when the listener presses play.
    player.close()
    expect(popup.get_by_role("button", name="Play")).to_be_visible()
    popup.wait_for_timeout(1500)
    assert not [p for p in moodtune.context.pages if p.url.startswith("https://music.youtube")]
    popup.get_by_role("button", name="Play").click()
    wait_until_playing(moodtune.player(), now_playing_id(moodtune, popup))


def test_an_unplayable_track_is_passed_at_once_and_not_offered_again(launch, data_dir):
    moodtune = launch(Behaviour())
    popup = start_music(moodtune)
    first = now_playing_id(moodtune, popup)
    player = moodtune.player()
    wait_until_playing(player, first)
    unplayable = moodtune.stored_state(popup)["queue"][0]["video_id"]
    player.evaluate("(id) => standin.unplayable.add(id)", unplayable)

    # When the first track ends, the next cannot play here: the one after it plays instead.
    after = moodtune.stored_state(popup)["queue"][1]["video_id"]
    wait_until_playing(player, after)
    assert unplayable not in [t["video_id"] for t in moodtune.stored_state(popup)["queue"]]
    expect(popup.get_by_role("alert")).to_be_hidden()
    # The host was told, and its recommender leaves it out from now on.
    for _ in range(50):
        if unplayable_in_host_store(data_dir):
            break
        player.wait_for_timeout(100)
    assert unplayable_in_host_store(data_dir) == {unplayable}
