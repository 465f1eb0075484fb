"""Leaving the desk, in real Chromium with the real host: the music pauses while nobody is in
view and plays on when the face is back. The host's camera is a video of real happy faces
(FER-2013) with an empty scene between them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import HOST_TIMEOUT, SECONDS
from training.videos import make_video


@pytest.fixture(scope="module")
def leaving_video(tmp_path_factory, fer_sample) -> Path:
    """Happy faces for 8 s, nobody for 20 s, a happy face for 4 s (then it loops)."""
    folder = tmp_path_factory.mktemp("away")
    shutil.copytree(fer_sample / "val" / "happy", folder / "faces" / "happy")
    video = folder / "leaving.mp4"
    make_video(folder / "faces", video, faces=3, seconds=4.0, seed=1, empty_s=20.0, empty_after=2)
    return video


def test_music_pauses_while_away_and_plays_on_return(launch_moodtune, data_dir, leaving_video):
    moodtune = launch_moodtune({"MOODTUNE_DATA_DIR": str(data_dir)})
    moodtune.set_camera(str(leaving_video))
    settings = moodtune.settings()
    expect(settings.get_by_label("Pause the music when I leave")).to_be_checked()
    away = settings.get_by_label("Away after (seconds without a face)")
    away.fill("5")
    away.press("Enter")
    expect(settings.get_by_text("Saved.")).to_be_visible()
    settings.close()

    popup = moodtune.popup()
    switch = popup.get_by_role("switch", name="Camera")
    expect(switch).to_be_enabled(timeout=HOST_TIMEOUT)
    switch.check()
    expect(popup.get_by_role("button", name="Pause")).to_be_visible(timeout=HOST_TIMEOUT)

    expect(popup.locator("#mood-label")).to_have_text("You seem to be away", timeout=HOST_TIMEOUT)
    try:
        expect(popup.get_by_role("button", name="Play")).to_be_visible(timeout=10 * SECONDS)
    except AssertionError as error:
        state = moodtune.stored_state(popup)
        raise AssertionError(f"still playing while away: {state['player']}, {state['status']}, "
                             f"pausedForAway {state['pausedForAway']}") from error  # fmt: skip
    assert moodtune.stored_state(popup)["pausedForAway"] is True

    expect(popup.get_by_role("button", name="Pause")).to_be_visible(timeout=HOST_TIMEOUT)
    state = moodtune.stored_state(popup)
    assert state["pausedForAway"] is False and state["status"]["state"] == "camera"
