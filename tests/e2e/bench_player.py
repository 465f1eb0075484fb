"""How quickly the player tab does what a listener notices, on the stand-in YouTube Music in
real Chromium with the real host (a benchmark that prints figures, not a test):

- the gap between one track's end and the next one playing, in place (the player's API) and
  with a page load per track (the fallback), median of several changes;
- how long "Continue watching?" leaves the music paused before moodtune has it playing again;
- how long a tab that cannot load YouTube Music takes to be shown as failed in the popup,
  from the moment moodtune starts loading it.

    /work/main/.venv/bin/python tests/e2e/bench_player.py [--changes 8] [--cures 6] [--loads 4]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent), str(HERE.parents[1])]

from conftest import fill_music_database, launch_browser, serve_youtube_music  # noqa: E402
from ytmusic_standin import Behaviour  # noqa: E402

from host.music.store import DB_NAME  # noqa: E402

SECONDS = 1000

# Kept in sessionStorage, which outlives page loads in the tab: the time each track's video
# ended, and the time a different track's video started playing after it.
RECORD_CHANGES = """(() => {
  if (window.benchRecording) return;
  window.benchRecording = true;
  const read = () => JSON.parse(sessionStorage.getItem('bench') ?? '{"ended": null, "gaps": []}');
  const write = (value) => sessionStorage.setItem('bench', JSON.stringify(value));
  document.addEventListener('ended', (event) => {
    write({ ...read(), ended: { at: Date.now(), src: event.target.currentSrc } });
  }, true);
  document.addEventListener('playing', (event) => {
    const record = read();
    if (record.ended && record.ended.src !== event.target.currentSrc) {
      write({ ended: null, gaps: [...record.gaps, Date.now() - record.ended.at] });
    }
  }, true);
})();"""

# From the pause "Continue watching?" made to playing again: a pause is the popup's when the
# stand-in opened one before the video played again.
RECORD_CURES = """(() => {
  window.benchCures = [];
  let pausedAt = null;
  let opened = standin.youThereOpened;
  document.addEventListener('pause', () => { pausedAt = performance.now(); }, true);
  document.addEventListener('playing', () => {
    if (pausedAt !== null && standin.youThereOpened > opened) {
      window.benchCures.push(performance.now() - pausedAt);
    }
    opened = standin.youThereOpened;
    pausedAt = null;
  }, true);
})();"""


def start_music(moodtune):
    popup = moodtune.popup()
    override = popup.get_by_label("Mood", exact=True)
    override.wait_for()
    popup.wait_for_function(
        "() => !document.getElementById('override').disabled", timeout=30 * SECONDS
    )
    override.select_option(label="Happy")
    return popup


def track_gaps(
    playwright, youtube_music, folder: Path, changes: int, player_api: bool
) -> list[int]:
    moodtune = launch_browser(
        playwright, youtube_music, folder, environment(folder), Behaviour(player_api=player_api)
    )
    try:
        moodtune.context.add_init_script(RECORD_CHANGES)
        start_music(moodtune)
        player = moodtune.player()
        gaps = "JSON.parse(sessionStorage.getItem('bench') ?? '{\"gaps\": []}').gaps"
        recorded: list[int] = []
        deadline = time.monotonic() + changes * 8 + 30
        while len(recorded) < changes and time.monotonic() < deadline:
            try:
                player.evaluate(RECORD_CHANGES)  # the first page may predate the init script
                recorded = player.evaluate(gaps)
            except Exception:  # a page load in progress; ask again
                pass
            player.wait_for_timeout(250)
        return recorded[:changes]
    finally:
        moodtune.context.close()


def continue_watching_cures(
    playwright, youtube_music, folder: Path, cures: int, with_event: bool
) -> list[float]:
    behaviour = Behaviour(
        you_there_after_s=1.0, you_there_watches_activity=False, you_there_event=with_event
    )
    moodtune = launch_browser(playwright, youtube_music, folder, environment(folder), behaviour)
    try:
        start_music(moodtune)
        player = moodtune.player()
        player.wait_for_function("document.querySelector('video')", timeout=30 * SECONDS)
        player.evaluate(RECORD_CURES)
        player.wait_for_function(
            f"window.benchCures.length >= {cures}", polling=200, timeout=(cures * 6 + 30) * SECONDS
        )
        return player.evaluate("window.benchCures")[:cures]
    finally:
        moodtune.context.close()


def failed_load_detections(playwright, youtube_music, folder: Path, loads: int) -> list[float]:
    moodtune = launch_browser(
        playwright, youtube_music, folder, environment(folder), Behaviour(failing=True)
    )
    try:
        popup = start_music(moodtune)
        loading = (
            "() => chrome.storage.session.get('state')"
            ".then((s) => s.state.player.state === 'loading')"
        )
        times = []
        for attempt in range(loads):
            popup.wait_for_function(loading, polling=20)
            began = time.monotonic()
            heading = popup.get_by_role("heading", name="YouTube Music did not load")
            heading.wait_for(timeout=30 * SECONDS)
            times.append(time.monotonic() - began)
            if attempt + 1 < loads:
                popup.get_by_role("button", name="Retry").click()
        return times
    finally:
        moodtune.context.close()


def environment(folder: Path) -> dict[str, str]:
    data = folder / "data"
    if not data.exists():
        data.mkdir(parents=True)
        fill_music_database(data / DB_NAME)
    return {"MOODTUNE_DATA_DIR": str(data)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=8, help="track changes to time")
    parser.add_argument("--cures", type=int, default=6, help='"Continue watching?" to time')
    parser.add_argument("--loads", type=int, default=4, help="failed loads to time")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as scratch, sync_playwright() as playwright:
        folder = Path(scratch)
        standin, server = serve_youtube_music(folder)
        youtube_music = (standin, server.server_address[1])
        for player_api, name in ((True, "in place (player API)"), (False, "page per track")):
            run = folder / f"gaps-{player_api}"
            run.mkdir()
            gaps = track_gaps(playwright, youtube_music, run, args.changes, player_api)
            print(
                f"track-to-track gap, {name}: median {statistics.median(gaps):.0f} ms "
                f"over {len(gaps)} changes (min {min(gaps)}, max {max(gaps)})"
            )
        for with_event, name in ((True, "yt-popup-opened fired"), (False, "no event")):
            run = folder / f"cures-{with_event}"
            run.mkdir()
            cures = continue_watching_cures(playwright, youtube_music, run, args.cures, with_event)
            print(
                f'"Continue watching?" pause to playing again ({name}): median '
                f"{statistics.median(cures):.0f} ms over {len(cures)} (max {max(cures):.0f})"
            )
        run = folder / "loads"
        run.mkdir()
        loads = failed_load_detections(playwright, youtube_music, run, args.loads)
        print(
            f"failed load shown in the popup: median {statistics.median(loads):.1f} s over "
            f"{len(loads)} (max {max(loads):.1f})"
        )
        server.shutdown()


if __name__ == "__main__":
    main()
