"""The stand-in YouTube Music: pages shaped like music.youtube.com where moodtune looks, served
over local HTTPS, with the behaviours of the real app that moodtune meets (see
standin/ytmusic_app.js). Every track plays a short real video, so tracks end within seconds.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import ssl
import threading
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import cv2
import numpy as np

TRACK_SECONDS = 3.0
AD_SECONDS = 2.0

# Pages shaped like YouTube Music's, as far as moodtune looks: the app with its player (built by
# script after the page loads, see standin/ytmusic_app.js), the player bar with title, byline,
# artwork and ad badge, the popup container, and the playability-error panel.
_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title} - YouTube Music</title></head>
<body><ytmusic-app>
  <ytmusic-player id="player">
    <yt-playability-error-supported-renderers hidden></yt-playability-error-supported-renderers>
  </ytmusic-player>
  <ytmusic-player-bar class="style-scope ytmusic-app">
    <img class="image style-scope ytmusic-player-bar" src="https://i.ytimg.com/vi/{video_id}/sddefault.jpg">
    <yt-formatted-string class="title style-scope ytmusic-player-bar">{title}</yt-formatted-string>
    <span class="subtitle style-scope ytmusic-player-bar">
      <yt-formatted-string class="byline style-scope ytmusic-player-bar"
        >Stand-in Artist • Stand-in Album • 2024</yt-formatted-string>
    </span>
    <span class="advertisement style-scope ytmusic-player-bar" hidden>Ad</span>
  </ytmusic-player-bar>
  <ytmusic-popup-container></ytmusic-popup-container>
</ytmusic-app>
<script type="application/json" id="standin-config">{config}</script>
<script src="/_standin/app.js"></script>
</body></html>"""
STANDIN_APP = Path(__file__).with_name("standin") / "ytmusic_app.js"


@dataclass
class Behaviour:
    """What the stand-in YouTube Music does (see standin/ytmusic_app.js)."""

    player_api: bool = True
    ad_first: bool = False
    you_there_after_s: float | None = None
    you_there_watches_activity: bool = True
    you_there_event: bool = True  # the page announces the popup with `yt-popup-opened`
    unplayable: frozenset[str] = frozenset()
    # Page loads are cut off before an answer, as with the network down: the browser shows its
    # own error page.
    failing: bool = False

    def page_config(self) -> str:
        return json.dumps(
            {
                "playerApi": self.player_api,
                "adFirst": self.ad_first,
                "youThereAfterS": self.you_there_after_s,
                "youThereWatchesActivity": self.you_there_watches_activity,
                "youThereEvent": self.you_there_event,
                "unplayable": sorted(self.unplayable),
            }
        )


def make_track_video(
    path: Path, seconds: float = TRACK_SECONDS, colour: tuple[int, int, int] = (90, 60, 200)
) -> Path:
    """A short real VP8 WebM video (a coloured card with a frame counter)."""
    fps = 10
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"VP80"), fps, (320, 180))
    for index in range(round(seconds * fps)):
        frame = np.full((180, 320, 3), colour, np.uint8)
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
    ad_video: bytes
    behaviour: Behaviour = field(default_factory=Behaviour)
    watched: list[str] = field(default_factory=list)  # the tracks whose video was fetched
    pages: list[str] = field(default_factory=list)  # the pages loaded, by path and query

    def reset(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.watched.clear()
        self.pages.clear()

    def answer(self, host: str, path: str, query: str) -> tuple[int, str, bytes] | None:
        """(status, content type, body) for one GET; None: the connection is cut instead."""
        if host != "music.youtube.com":
            return 200, "image/png", artwork_png(f"{host}{path}")
        if path == "/_standin/track.webm":
            self.watched.append(parse_qs(query).get("v", [""])[0])
            return 200, "video/webm", self.video
        if path == "/_standin/ad.webm":
            return 200, "video/webm", self.ad_video
        if path == "/_standin/app.js":
            return 200, "text/javascript", STANDIN_APP.read_bytes()
        if path in ("/", "/watch"):
            if self.behaviour.failing:
                return None
            self.pages.append(f"{path}?{query}" if query else path)
            video_id = parse_qs(query).get("v", [""])[0]
            title = f"Track {video_id}" if video_id else "Home"
            config = self.behaviour.page_config().replace("</", "<\\/")
            page = _PAGE.format(title=escape(title), video_id=escape(video_id), config=config)
            return 200, "text/html", page.encode()
        return 404, "text/plain", b"not in the stand-in"

    def serve(self, cert_file: Path, key_file: Path) -> ThreadingHTTPServer:
        """Start serving HTTPS on a free local port, on a thread; the server."""
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                host = self.headers.get("Host", "").split(":")[0]
                answer = standin.answer(host, url.path, url.query)
                if answer is None:
                    self.close_connection = True
                    return
                status, content_type, body = answer
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
