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

import datetime
import hashlib
import os
import shutil
import signal
import ssl
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import cv2
import numpy as np
import pytest

from host.commands import install
from host.music.store import DB_NAME
from training.videos import make_video

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
EXTENSION_DIR = REPO / "extension"
EXTENSION_URL = f"chrome-extension://{install.EXTENSION_ID}"
POPUP_URL = f"{EXTENSION_URL}/popup.html"
OPTIONS_URL = f"{EXTENSION_URL}/options.html"
TRACK_SECONDS = 3.0
STANDIN_HOSTS = ("music.youtube.com", "i.ytimg.com", "*.googleusercontent.com")

# Pages shaped like YouTube Music's, as far as the content script looks: the player bar with
# title, byline and artwork, and on a watch page the player's <video>, which YouTube Music
# builds with script after the page has loaded and starts by itself.
_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title} - YouTube Music</title></head>
<body><ytmusic-app>
  <ytmusic-player id="player"></ytmusic-player>
  <ytmusic-player-bar class="style-scope ytmusic-app">
    <img class="image style-scope ytmusic-player-bar" src="https://i.ytimg.com/vi/{video_id}/sddefault.jpg">
    <yt-formatted-string class="title style-scope ytmusic-player-bar">{title}</yt-formatted-string>
    <span class="subtitle style-scope ytmusic-player-bar">
      <yt-formatted-string class="byline style-scope ytmusic-player-bar"
        >Stand-in Artist • Stand-in Album • 2024</yt-formatted-string>
    </span>
  </ytmusic-player-bar>
</ytmusic-app>
<script>{script}</script>
</body></html>"""

_BUILD_PLAYER = """
setTimeout(() => {
  const movie = document.createElement('div');
  movie.id = 'movie_player';
  movie.className = 'html5-video-player';
  const video = document.createElement('video');
  video.className = 'video-stream html5-main-video';
  video.src = '/_standin/track.webm?v=' + encodeURIComponent(VIDEO_ID);
  movie.append(video);
  document.getElementById('player').append(movie);
  video.play();
}, 300);
"""


def make_track_video(path: Path, seconds: float = TRACK_SECONDS) -> Path:
    """A short real VP8 WebM video (a coloured card with a frame counter)."""
    fps = 10
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"VP80"), fps, (320, 180))
    for index in range(round(seconds * fps)):
        frame = np.full((180, 320, 3), (90, 60, 200), np.uint8)
        cv2.putText(frame, str(index), (130, 110), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (255,) * 3, 3)
        writer.write(frame)
    writer.release()
    return path


def artwork_png(url: str) -> bytes:
    """A small square in a colour of the URL's own, so every track's artwork differs."""
    blue, green, red = hashlib.sha256(url.encode()).digest()[:3]
    image = np.zeros((120, 120, 3), np.uint8)
    image[:] = (int(blue) // 2 + 100, int(green) // 2 + 60, int(red) // 2 + 100)
    cv2.circle(image, (60, 60), 28, (255, 255, 255), 6, cv2.LINE_AA)
    return cv2.imencode(".png", image)[1].tobytes()


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate and key for the stand-in (Chromium is told to accept it)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "music.youtube.com")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "standin.crt", folder / "standin.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@dataclass
class StandInYouTubeMusic:
    """Answers for music.youtube.com and the artwork hosts; remembers the track pages opened."""

    video: bytes
    watched: list[str] = field(default_factory=list)

    def answer(self, host: str, path: str, query: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for one GET."""
        if host != "music.youtube.com":
            return 200, "image/png", artwork_png(f"{host}{path}")
        if path == "/_standin/track.webm":
            return 200, "video/webm", self.video
        if path == "/watch":
            video_id = parse_qs(query).get("v", [""])[0]
            self.watched.append(video_id)
            script = f"const VIDEO_ID = {video_id!r};{_BUILD_PLAYER}"
            page = _PAGE.format(
                title=escape(f"Track {video_id}"), video_id=escape(video_id), script=script
            )
            return 200, "text/html", page.encode()
        if path == "/":
            return 200, "text/html", _PAGE.format(title="Home", video_id="", script="").encode()
        return 404, "text/plain", b"not in the stand-in"

    def serve(self, cert_file: Path, key_file: Path) -> ThreadingHTTPServer:
        """Start serving HTTPS on a free local port, on a thread; the server."""
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                host = self.headers.get("Host", "").split(":")[0]
                status, content_type, body = standin.answer(host, url.path, url.query)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep the test output quiet

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # The browser drops connections mid-answer (a video cut short by the next track):
        # nothing the stand-in should report.
        server.handle_error = lambda request, client_address: None
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(cert_file, key_file)
        server.socket = tls.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


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

    def stored_state(self, page) -> dict:
        """What the service worker keeps for the popup, read through an extension page."""
        return page.evaluate("chrome.storage.session.get('state').then((s) => s.state)")


def register_host(profile: Path, host_dir: Path, environment: dict[str, str]) -> tuple[Path, Path]:
    """Register the real host in `profile` as `moodtune install` would; (pid file, log file).

    The manifest points to a wrapper that notes each host's pid before handing over to the
    installer's launcher (the same process, by exec), so a test can kill the host.
    """
    system = install.System(
        platform=sys.platform, home=profile, environ=environment, host_dir=host_dir
    )
    launcher = install.write_launcher(system, sys.executable, environment)
    pid_file = host_dir / "host.pids"
    wrapper = host_dir / "moodtune-host-test"
    wrapper.write_text(f'#!/bin/sh\necho $$ >> "{pid_file}"\nexec "{launcher}" "$@"\n')
    wrapper.chmod(0o755)
    manifest = profile / "NativeMessagingHosts" / f"{install.HOST_NAME}.json"
    install.write_manifest(manifest, wrapper, [install.EXTENSION_ID])
    return pid_file, host_dir / install.LOG_NAME


def launch_chromium(playwright, profile: Path, standin_port: int):
    """Chromium with the extension loaded, in `profile`, reaching only the stand-in at
    `standin_port`."""
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
            "--autoplay-policy=no-user-gesture-required",
        ],
    )


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
    folder = tmp_path_factory.mktemp("standin")
    standin = StandInYouTubeMusic(make_track_video(folder / "track.webm").read_bytes())
    server = standin.serve(*self_signed_certificate(folder))
    yield standin, server.server_address[1]
    server.shutdown()


@pytest.fixture
def launch_moodtune(playwright_instance, youtube_music, tmp_path):
    """A function that starts Chromium with moodtune, given the host's environment."""
    standin, port = youtube_music
    contexts = []

    def launch(environment: dict[str, str] | None) -> Moodtune:
        """Without an environment, no host is registered."""
        profile = tmp_path / "profile"
        host_dir = tmp_path / "host"
        pid_file, log_file = host_dir / "host.pids", host_dir / install.LOG_NAME
        if environment is not None:
            environment = {"PYTHONPATH": str(REPO), **environment}
            pid_file, log_file = register_host(profile, host_dir, environment)
        standin.watched.clear()
        context = launch_chromium(playwright_instance, profile, port)
        contexts.append(context)
        return Moodtune(context, standin, pid_file, log_file)

    yield launch
    for context in contexts:
        context.close()


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
    """A music store filled from recorded YouTube Music responses, for every emotion in
    English and Hindi.

    The real recommender fetches through the replaying adapter, with its clock set two hours
    back: the answers are then fresh (their time-to-live is hours), so the host never goes
    online, and the tracks the seeding offered are no longer held back as recently offered.
    """
    from ytmusic_replay import Replay, replay_client

    from host.music import Recommender
    from host.music.store import Store
    from host.vocabulary import EMOTIONS

    path = tmp_path_factory.mktemp("music") / DB_NAME
    store = Store(path)
    two_hours_ago = time.time() - 2 * 3600
    recommender = Recommender(store, replay_client(Replay()), clock=lambda: two_hours_ago)
    for emotion in EMOTIONS:
        for language in ("en", "hi"):
            recommender.recommend(emotion, language, "match")
    store.close()
    return path


@pytest.fixture
def data_dir(tmp_path, music_database) -> Path:
    """The host's data folder (MOODTUNE_DATA_DIR), with the music store in it."""
    directory = tmp_path / "data"
    directory.mkdir()
    shutil.copy(music_database, directory / DB_NAME)
    return directory
