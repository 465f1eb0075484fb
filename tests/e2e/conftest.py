"""Real Chromium with the moodtune extension loaded and the real host registered in its profile.

The browser is Debian's Chromium, driven headless by Playwright. The host is registered the way
`moodtune install` does it (the same launcher and manifest writers), but in the test's own
user-data folder, which Chromium on Linux searches for `NativeMessagingHosts/`.

YouTube Music is a stand-in: pages shaped like music.youtube.com where
extension/content/ytmusic.js looks (the player bar, a `video.html5-main-video` built after the
page loads), playing a short real video for every track, so tracks end within seconds. It is
served by a local HTTPS server that Chromium reaches for music.youtube.com (and the artwork
hosts) through --host-resolver-rules, not by Playwright's routing: a tab that an extension
opens with chrome.tabs.create makes its first request before Playwright can intercept it
(microsoft/playwright#21061). Every other host name fails to resolve, so nothing leaves the
machine.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from ytmusic_standin import (
    AD_SECONDS,
    Behaviour,
    StandInYouTubeMusic,
    make_track_video,
    self_signed_certificate,
)

from host.commands import install
from host.music.store import DB_NAME
from training.videos import make_video

SECONDS = 1000  # Playwright timeouts are in milliseconds
# The host loads its model and opens the video within a few seconds, even on a busy machine.
HOST_TIMEOUT = 30 * SECONDS
CHROMIUM = Path("/usr/bin/chromium")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here runs in real Chromium: marked `browser`, skipped (saying why) without it."""
    here = Path(__file__).parent
    missing = pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium)",
    )
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(missing)


#: The browsers a test started, so a failure's report can show what their hosts logged.
LAUNCHED = pytest.StashKey[list["Moodtune"]]()
LOG_TAIL = 4000  # characters of each host's log in a failure's report


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """A failed browser test's report ends with what its hosts logged and what the popup read:
    a host that never said hello and a popup that missed it look the same from the test."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    for moodtune in item.stash.get(LAUNCHED, []):
        report.sections.append((f"host log {moodtune.log_file}", moodtune.host_log()[-LOG_TAIL:]))
        report.sections.append(("extension state", moodtune.worker_state()))


REPO = Path(__file__).resolve().parents[2]
EXTENSION_DIR = REPO / "extension"
EXTENSION_URL = f"chrome-extension://{install.EXTENSION_ID}"
POPUP_URL = f"{EXTENSION_URL}/popup.html"
OPTIONS_URL = f"{EXTENSION_URL}/options.html"
STANDIN_HOSTS = ("music.youtube.com", "i.ytimg.com", "*.googleusercontent.com")


@dataclass
class Moodtune:
    """The browser with moodtune in it, and handles on what a test looks at."""

    context: object
    youtube_music: StandInYouTubeMusic
    pid_file: Path
    log_file: Path

    def popup(self):
        """The extension's popup, opened as a page of its own."""
        page = self.context.new_page()
        page.set_viewport_size({"width": 360, "height": 600})
        page.goto(POPUP_URL)
        return page

    def settings(self):
        """The extension's options page, opened in a tab."""
        page = self.context.new_page()
        page.goto(OPTIONS_URL)
        return page

    def set_camera(self, source: str) -> None:
        """Pick the camera in the options page, as a listener would."""
        page = self.settings()
        field = page.get_by_label("Camera to watch")
        field.fill(source)
        field.press("Enter")
        page.get_by_text("Saved.").wait_for()
        page.close()

    def player(self, timeout_s: float = 30):
        """The YouTube Music tab the extension opened."""
        waiter = self.context.pages[0]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for page in self.context.pages:
                if page.url.startswith("https://music.youtube.com/"):
                    return page
            waiter.wait_for_timeout(200)  # a sync-API wait that lets Playwright see new tabs
        raise AssertionError("the extension opened no YouTube Music tab")

    def host_pids(self) -> list[int]:
        """Every host process the browser started, oldest first."""
        if not self.pid_file.exists():
            return []
        return [int(line) for line in self.pid_file.read_text().split()]

    def wait_for_new_host(self, old_pid: int, page, timeout_s: float = 30) -> int:
        """The pid of a host started after `old_pid`, once there is one."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.host_pids()[-1] != old_pid:
                return self.host_pids()[-1]
            page.wait_for_timeout(100)
        raise AssertionError(f"no host started after {old_pid}:\n{self.host_log()}")

    def kill_host(self) -> int:
        """Kill the running host the hard way, as a crash would; its pid."""
        pid = self.host_pids()[-1]
        os.kill(pid, signal.SIGKILL)
        return pid

    def host_log(self) -> str:
        """The last host's stderr, for assertion messages."""
        return self.log_file.read_text() if self.log_file.exists() else "(no host log)"

    def stop_worker(self, page) -> None:
        """Stop the extension's service worker, as Chrome does to idle or crashed ones."""
        cdp = self.context.new_cdp_session(page)
        targets = cdp.send("Target.getTargets")["targetInfos"]
        [worker] = [
            t for t in targets if t["type"] == "service_worker" and EXTENSION_URL in t["url"]
        ]
        cdp.send("Target.closeTarget", {"targetId": worker["targetId"]})
        cdp.detach()

    def worker_state(self) -> str:
        """What the service worker keeps for the popup, read in the worker, for reports."""
        try:
            [worker] = self.context.service_workers
            return repr(worker.evaluate("chrome.storage.session.get('state')"))
        except Exception as exc:  # the report of a failure must not fail in its turn
            return f"(not readable: {exc})"

    def stored_state(self, page) -> dict:
        """What the service worker keeps for the popup, read through an extension page."""
        return page.evaluate("chrome.storage.session.get('state').then((s) => s.state)")


def register_host(
    profile: Path, host_dir: Path, environment: dict[str, str], program: Path | None = None
) -> tuple[Path, Path]:
    """Register the real host in `profile` as `moodtune install` would; (pid file, log file).
    With a `program`, that Python script is registered in the host's place.

    The manifest points to a wrapper that notes each host's pid before handing over to the
    installer's launcher (the same process, by exec), so a test can kill the host.
    """
    system = install.System(
        platform=sys.platform, home=profile, environ=environment, host_dir=host_dir
    )
    launcher = install.write_launcher(system, sys.executable, environment)
    pid_file = host_dir / "host.pids"
    wrapper = host_dir / "moodtune-host-test"
    start = f'exec "{launcher}" "$@"'
    if program is not None:
        start = f'PYTHONPATH="{REPO}" exec "{sys.executable}" "{program}" "$@"'
    wrapper.write_text(f'#!/bin/sh\necho $$ >> "{pid_file}"\n{start}\n')
    wrapper.chmod(0o755)
    manifest = profile / "NativeMessagingHosts" / f"{install.HOST_NAME}.json"
    install.write_manifest(manifest, wrapper, [install.EXTENSION_ID])
    return pid_file, host_dir / install.LOG_NAME


def launch_chromium(playwright, profile: Path, standin_port: int, autoplay_allowed: bool = True):
    """Chromium with the extension loaded, in `profile`, reaching only the stand-in at
    `standin_port`. Without `autoplay_allowed`, it refuses sound until a click in the tab, as
    for a listener new to YouTube Music."""
    autoplay = "no-user-gesture-required" if autoplay_allowed else "user-gesture-required"
    return playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=str(CHROMIUM),
        headless=True,
        args=[
            f"--disable-extensions-except={EXTENSION_DIR}",
            f"--load-extension={EXTENSION_DIR}",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--mute-audio",
            "--host-resolver-rules="
            + ", ".join(f"MAP {host} 127.0.0.1:{standin_port}" for host in STANDIN_HOSTS)
            + ", MAP * ~NOTFOUND",
            "--ignore-certificate-errors",
            # A listener's browser lets YouTube Music start by itself (it has played there
            # before); a fresh profile would wait for a click in the tab.
            f"--autoplay-policy={autoplay}",
        ],
    )


def launch_browser(
    playwright,
    youtube_music: tuple[StandInYouTubeMusic, int],
    folder: Path,
    environment: dict[str, str] | None,
    behaviour: Behaviour,
    autoplay_allowed: bool = True,
    host_program: Path | None = None,
) -> Moodtune:
    """Chromium with moodtune, its profile in `folder`; with the host (or `host_program` in
    its place) registered when there is an `environment` for it. (The `launch_moodtune`
    fixture, and benchmarks, call this.)"""
    standin, port = youtube_music
    profile = folder / "profile"
    host_dir = folder / "host"
    pid_file, log_file = host_dir / "host.pids", host_dir / install.LOG_NAME
    if environment is not None:
        environment = {"PYTHONPATH": str(REPO), **environment}
        pid_file, log_file = register_host(profile, host_dir, environment, host_program)
    standin.reset(behaviour)
    context = launch_chromium(playwright, profile, port, autoplay_allowed)
    return Moodtune(context, standin, pid_file, log_file)


def serve_youtube_music(folder: Path) -> tuple[StandInYouTubeMusic, ThreadingHTTPServer]:
    """The stand-in YouTube Music, its videos made in `folder`, serving."""
    standin = StandInYouTubeMusic(
        make_track_video(folder / "track.webm").read_bytes(),
        make_track_video(folder / "ad.webm", AD_SECONDS, colour=(40, 180, 240)).read_bytes(),
    )
    return standin, standin.serve(*self_signed_certificate(folder))


def fill_music_database(path: Path) -> Path:
    """A music store at `path` filled from recorded YouTube Music responses, for every emotion
    in English and Hindi.

    The real recommender fetches through the replaying adapter, with its clock set two hours
    back: the answers are then fresh (their time-to-live is hours), so the host never goes
    online, and the tracks the seeding offered are no longer held back as recently offered.
    """
    from ytmusic_replay import Replay, replay_client

    from host.music import Recommender
    from host.music.store import Store
    from host.vocabulary import EMOTIONS

    store = Store(path)
    two_hours_ago = time.time() - 2 * 3600
    recommender = Recommender(store, replay_client(Replay()), clock=lambda: two_hours_ago)
    for emotion in EMOTIONS:
        for language in ("en", "hi"):
            recommender.recommend(emotion, language, "match")
    store.close()
    return path


@pytest.fixture(scope="module")
def playwright_instance():
    """Playwright's sync API, for one test module at a time: while it runs, its event loop
    counts as running, and asyncio tests elsewhere could not start theirs."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def youtube_music(tmp_path_factory) -> Iterator[tuple[StandInYouTubeMusic, int]]:
    """The stand-in YouTube Music, serving; (stand-in, port)."""
    standin, server = serve_youtube_music(tmp_path_factory.mktemp("standin"))
    yield standin, server.server_address[1]
    server.shutdown()


@pytest.fixture
def launch_moodtune(request, playwright_instance, youtube_music, tmp_path):
    """A function that starts Chromium with moodtune, given the host's environment."""
    standin, port = youtube_music
    launched: list[Moodtune] = []
    request.node.stash[LAUNCHED] = launched

    def launch(
        environment: dict[str, str] | None,
        behaviour: Behaviour | None = None,
        autoplay_allowed: bool = True,
        host_program: Path | None = None,
    ) -> Moodtune:
        """Without an environment, no host is registered. Without `autoplay_allowed`, the
        browser refuses sound until a click in the tab, as for a listener new to YouTube Music.
        With a `host_program`, that script stands in for the host."""
        moodtune = launch_browser(
            playwright_instance,
            (standin, port),
            tmp_path,
            environment,
            behaviour or Behaviour(),
            autoplay_allowed,
            host_program,
        )
        launched.append(moodtune)
        return moodtune

    yield launch
    for moodtune in launched:
        moodtune.context.close()
    standin.reset(Behaviour())  # the next test, or another module's browser, meets the default


@pytest.fixture(scope="session")
def happy_face_video(tmp_path_factory, fer_sample) -> Path:
    """A camera-like video of real happy faces (FER-2013), held for seconds each; it loops."""
    folder = tmp_path_factory.mktemp("camera")
    shutil.copytree(fer_sample / "val" / "happy", folder / "faces" / "happy")
    video = folder / "happy.mp4"
    make_video(folder / "faces", video, faces=3, seconds=4.0, seed=1)
    return video


@pytest.fixture(scope="session")
def music_database(tmp_path_factory) -> Path:
    """A music store filled from recorded YouTube Music responses (see fill_music_database)."""
    return fill_music_database(tmp_path_factory.mktemp("music") / DB_NAME)


@pytest.fixture
def data_dir(tmp_path, music_database) -> Path:
    """The host's data folder (MOODTUNE_DATA_DIR), with the music store in it."""
    directory = tmp_path / "data"
    directory.mkdir()
    shutil.copy(music_database, directory / DB_NAME)
    return directory
