"""The web transport: the `moodtune demo` page, served by aiohttp on 127.0.0.1.

One session, any number of open pages. Each page gets the session's events over a websocket
(newest hello, status, mood history and tracks first, so a reload or a late tab is up to date),
a `live` message per previewed frame with the model's raw probabilities, and the camera as an
MJPEG stream with the face box drawn in. Preview frames are only encoded while a page watches,
downscaled and at most PREVIEW_FPS a second, so an idle demo costs nothing extra.

The server is for this machine's browser only: it listens on 127.0.0.1, every request must carry
the random token printed in the URL, and a request from another origin (a web page elsewhere
trying the local port) is refused.
"""

from __future__ import annotations

import asyncio
import functools
import json
import secrets
import socket
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path

import cv2
import numpy as np
from aiohttp import WSMsgType, web

from host.paths import PACKAGE_DIR
from host.protocol import EmotionEvent, Event, Hello, Status, Tracks, encode_event, javascript
from host.vision.camera import Frame
from host.vision.emotion import labelled
from host.vision.faces import Box
from host.vision.pipeline import FrameResult

WEB_DIR = PACKAGE_DIR / "web"
HOST = "127.0.0.1"
PREVIEW_FPS = 10.0
PREVIEW_WIDTH = 480  # the preview is downscaled to at most this width before encoding
JPEG_QUALITY = 75
BOX_COLOUR = (191, 212, 45)  # BGR of the page's face colour, #2dd4bf (--face in demo.css)
MOOD_HISTORY = 500  # emotion events kept for a new page's timeline
LIVE_BACKLOG = 4  # a page this many messages behind skips live updates until it catches up
MAX_MESSAGE_BYTES = 64 * 1024
SECURITY_HEADERS = {
    # The page loads artwork from YouTube's image hosts; the token must not leak there.
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' https: data:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
STATIC_FILES = {
    "demo.js": "text/javascript",
    "protocol.js": "text/javascript",
    "demo.css": "text/css",
}

Handle = Callable[[bytes], Awaitable[None]]


@functools.cache
def protocol_module() -> str:
    """The demo page's protocol.js: the module the extension's copy is generated as."""
    return javascript()


class PortUnavailable(RuntimeError):
    """The port asked for cannot be listened on (in use, or not allowed)."""


class WebTransport:
    """Serves the demo page and carries one session's messages to and from every open page.

    Give the session `send` and `show_frame`, then `start()` with the session's `handle`.
    `sample_video` is offered on the page when the camera cannot be opened.
    """

    def __init__(self, sample_video: Path | None = None) -> None:
        self.token = secrets.token_urlsafe(18)
        self.sample_video = sample_video
        self._handle: Handle | None = None
        self.port: int | None = None
        self._hello: Hello | None = None
        self._status: Status | None = None
        self._tracks: Tracks | None = None
        self._moods: deque[EmotionEvent] = deque(maxlen=MOOD_HISTORY)
        # Both read on the watcher thread without a lock: a stale answer costs one frame at most.
        self._outboxes: dict[web.WebSocketResponse, asyncio.Queue[str]] = {}  # open pages
        self._viewers = 0  # open preview streams
        self._last_preview = -1.0  # watcher thread only
        self._jpeg: bytes | None = None
        self._jpeg_number = 0
        self._jpeg_ready = asyncio.Event()  # set, then replaced, for each new preview frame
        self._closing = False
        self._loop = asyncio.get_running_loop()
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """The page's address, token included."""
        return f"http://{HOST}:{self.port}/?token={self.token}"

    async def start(self, handle: Handle, port: int = 0) -> str:
        """Listen on 127.0.0.1 (`port` 0: a free one), passing commands to `handle`; the URL."""
        self._handle = handle
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.bind((HOST, port))
        except OSError as exc:
            listener.close()
            raise PortUnavailable(f"cannot listen on {HOST}:{port}: {exc.strerror}") from exc
        self.port = listener.getsockname()[1]
        app = web.Application(middlewares=[self._guard])
        app.router.add_get("/", self._page)
        app.router.add_get("/ws", self._websocket)
        app.router.add_get("/preview.mjpg", self._preview)
        for name in STATIC_FILES:
            app.router.add_get(f"/{name}", self._static)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.SockSite(self._runner, listener).start()
        return self.url

    async def close(self) -> None:
        """End the preview streams, close the pages' websockets and stop listening."""
        self._closing = True
        self._jpeg_ready.set()
        for socket_ in list(self._outboxes):
            await socket_.close(message=b"the demo stopped")
        if self._runner is not None:
            await self._runner.cleanup()

    # The session's side

    async def send(self, event: Event) -> None:
        """Pass a session event to every page, and remember what a page opened later needs."""
        match event:
            case Hello():
                self._hello = event
            case Status():
                self._status = event
                if event.state != "camera":
                    self._jpeg = None  # a page opened now should not see a stale picture
            case EmotionEvent():
                self._moods.append(event)
            case Tracks():
                self._tracks = event
        self._broadcast(encode_event(event).decode())

    def show_frame(self, result: FrameResult, frame: Frame) -> None:
        """The session's frame listener (watcher thread): hand the loop a preview if watched."""
        if not (self._viewers or self._outboxes) or self._closing:
            return
        if frame.timestamp - self._last_preview < 1.0 / PREVIEW_FPS:
            return
        self._last_preview = frame.timestamp
        jpeg = preview_jpeg(frame.image, result.box, frame.levels) if self._viewers else None
        live = _live_message(result)
        self._loop.call_soon_threadsafe(self._publish_frame, live, jpeg)

    def _publish_frame(self, live: str, jpeg: bytes | None) -> None:
        for outbox in self._outboxes.values():
            if outbox.qsize() < LIVE_BACKLOG:
                outbox.put_nowait(live)
        if jpeg is not None:
            self._jpeg, self._jpeg_number = jpeg, self._jpeg_number + 1
            self._jpeg_ready.set()
            self._jpeg_ready = asyncio.Event()

    def _broadcast(self, text: str) -> None:
        for outbox in self._outboxes.values():
            outbox.put_nowait(text)

    # Requests

    @web.middleware
    async def _guard(self, request: web.Request, handler) -> web.StreamResponse:
        """Every request needs the token; a request from another origin is refused."""
        given = request.query.get("token", "").encode()
        if not secrets.compare_digest(given, self.token.encode()):
            raise web.HTTPForbidden(text="moodtune demo: open the URL printed in the terminal")
        origin = request.headers.get("Origin")
        if origin is not None and origin not in self._allowed_origins():
            raise web.HTTPForbidden(text="moodtune demo: requests from other sites are refused")
        response = await handler(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    def _allowed_origins(self) -> tuple[str, str]:
        return (f"http://{HOST}:{self.port}", f"http://localhost:{self.port}")

    async def _page(self, request: web.Request) -> web.Response:
        # The token goes into the asset URLs; token_urlsafe needs no HTML escaping.
        html = (WEB_DIR / "index.html").read_text(encoding="utf-8")
        return web.Response(text=html.replace("{{token}}", self.token), content_type="text/html")

    async def _static(self, request: web.Request) -> web.Response:
        name = request.path.lstrip("/")
        if name == "protocol.js":
            # The page imports the same vocabulary the extension's generated copy holds, made
            # from the Python on the spot, so this side has no file to keep in step.
            return web.Response(text=protocol_module(), content_type=STATIC_FILES[name])
        return web.Response(
            text=(WEB_DIR / name).read_text(encoding="utf-8"), content_type=STATIC_FILES[name]
        )

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        socket_ = web.WebSocketResponse(timeout=2.0, heartbeat=30.0, max_msg_size=MAX_MESSAGE_BYTES)
        await socket_.prepare(request)
        handle = self._handle
        assert handle is not None, "start() sets the command handler"
        # Queued before the page joins the broadcast, so the catch-up always comes first.
        outbox: asyncio.Queue[str] = asyncio.Queue()
        for text in self._catch_up():
            outbox.put_nowait(text)
        self._outboxes[socket_] = outbox
        writer = asyncio.ensure_future(_deliver(socket_, outbox))
        try:
            async for message in socket_:
                if message.type == WSMsgType.TEXT:
                    await handle(message.data.encode())
                elif message.type == WSMsgType.BINARY:
                    await handle(message.data)
        finally:
            del self._outboxes[socket_]
            writer.cancel()
        return socket_

    def _catch_up(self) -> list[str]:
        """What a page that just connected needs to show the session as it is."""
        sample = str(self.sample_video) if self.sample_video else None
        texts = [json.dumps({"type": "demo", "sample_video": sample})]
        events: list[Event] = [e for e in (self._hello, self._status) if e is not None]
        events += self._moods
        if self._tracks is not None:
            events.append(self._tracks)
        return texts + [encode_event(e).decode() for e in events]

    async def _preview(self, request: web.Request) -> web.StreamResponse:
        """The camera as MJPEG (multipart/x-mixed-replace): each part a JPEG with the face box."""
        response = web.StreamResponse(
            headers={"Content-Type": "multipart/x-mixed-replace; boundary=frame"}
        )
        response.headers.update(SECURITY_HEADERS)
        await response.prepare(request)
        self._viewers += 1
        shown = -1
        try:
            while not self._closing:
                jpeg = self._jpeg
                if jpeg is None or self._jpeg_number == shown:
                    await self._jpeg_ready.wait()
                    continue
                shown = self._jpeg_number
                head = f"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
                await response.write(head.encode() + jpeg + b"\r\n")
        except ConnectionResetError:
            pass  # the page went away
        finally:
            self._viewers -= 1
        return response


async def _deliver(socket_: web.WebSocketResponse, outbox: asyncio.Queue[str]) -> None:
    """Write one page's messages in order until it goes away."""
    try:
        while True:
            await socket_.send_str(await outbox.get())
    except ConnectionResetError:
        pass


def _live_message(result: FrameResult) -> str:
    """This frame's face, whether it can be read, and its probabilities, for the page's bars."""
    probabilities = None if result.probabilities is None else labelled(result.probabilities)
    face = result.box is not None
    return json.dumps(
        {"type": "live", "face": face, "quality": result.quality, "probabilities": probabilities}
    )


def preview_jpeg(image: np.ndarray, box: Box | None, levels: np.ndarray | None = None) -> bytes:
    """The frame downscaled to PREVIEW_WIDTH, with the face box drawn in, as a JPEG
    (`levels`: the table to full range of a video-range picture)."""
    scale = min(1.0, PREVIEW_WIDTH / image.shape[1])
    if scale < 1.0:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if levels is not None:
        image = cv2.LUT(image, levels)
    # In colour, for the box; a copy either way, so the watcher's frame stays as it was.
    small = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image.copy()
    if box is not None:
        top_left = (round(box.x * scale), round(box.y * scale))
        bottom_right = (round((box.x + box.w) * scale), round((box.y + box.h) * scale))
        cv2.rectangle(small, top_left, bottom_right, BOX_COLOUR, 2, cv2.LINE_AA)
    ok, encoded = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise RuntimeError("OpenCV could not encode a preview frame as JPEG")
    return encoded.tobytes()
