"""`moodtune demo`: the whole job in a local web page, no browser extension needed.

The host's session runs as it does for the extension; the web transport shows it on a page at
http://127.0.0.1:PORT/?token=... (camera preview with the face box, live probabilities, the mood
and its timeline, language, mode and mood controls, recommended tracks), and the terminal gets
one line per mood change and per camera or music event.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import time
import webbrowser
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TextIO

import cv2

from host.messages import NOTICES
from host.music import MusicWorker
from host.music.store import Store
from host.paths import PACKAGE_DIR
from host.protocol import EmotionEvent, Error, Event, Start, Status, Tracks
from host.session import Session, open_music
from host.terminal import printable
from host.transports.web import PortUnavailable, WebTransport
from host.vision.camera import CameraError
from host.vision.camera import camera_source as parse_camera
from host.vision.emotion import MODEL_DIR

SAMPLE_VIDEO = PACKAGE_DIR / "data" / "sample.mp4"
SAMPLE_ALIAS = "sample"
# The demo page is no browser profile's extension: its calibration and journal are its own, beside
# theirs in the same store (an extension's profile id, a random UUID, can never be this).
DEMO_PROFILE = "demo"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="show the camera, the mood and its music in a local web page",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument(
        "--camera",
        type=camera_source,
        default=0,
        metavar="INDEX_OR_FILE",
        help=f"camera index, a video file, or {SAMPLE_ALIAS!r} for the bundled sample video "
        "(default: 0)",
    )
    parser.add_argument(
        "--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)"
    )
    parser.add_argument(
        "--no-browser", action="store_true", help="print the page's URL without opening it"
    )
    parser.add_argument(
        "--model-dir",
        type=Path,
        default=MODEL_DIR,
        help="folder with emotion.tflite and model.json (default: the shipped model)",
    )
    parser.set_defaults(run=run)


def camera_source(value: str) -> int | str:
    """A camera index, or the path of a video file that exists (`sample`: the bundled one)."""
    if value == SAMPLE_ALIAS:
        if not SAMPLE_VIDEO.is_file():
            raise argparse.ArgumentTypeError(f"the bundled sample video is missing: {SAMPLE_VIDEO}")
        return str(SAMPLE_VIDEO)
    try:
        source = parse_camera(value)
    except CameraError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if isinstance(source, str) and not Path(source).is_file():
        raise argparse.ArgumentTypeError(f"no video file at {value}")
    return source


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="moodtune %(levelname)s: %(message)s"
    )
    # The terminal line for a camera that cannot open names it and says why; OpenCV's own
    # backend-by-backend warnings would bury that line.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        return asyncio.run(_serve(args.camera, args.port, not args.no_browser, args.model_dir))
    except KeyboardInterrupt:
        return 0


async def _serve(camera: int | str, port: int, open_browser: bool, model_dir: Path) -> int:
    stopped = asyncio.Event()
    # Ctrl+C and SIGTERM end the wait below, so the camera is released on the way out. (Handlers
    # set here also work where a shell started the demo with SIGINT ignored, as in a background
    # job. Windows' loop has none: Ctrl+C arrives as KeyboardInterrupt there.)
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            asyncio.get_running_loop().add_signal_handler(stop_signal, stopped.set)
    try:
        store = Store()
        async with running_demo(
            camera, music=open_music(store), port=port, model_dir=model_dir, store=store
        ) as transport:
            if open_browser:
                webbrowser.open(transport.url)
            await stopped.wait()
    except PortUnavailable as exc:
        print(f"moodtune demo: {exc}", file=sys.stderr)
        return 1
    return 0


@contextlib.asynccontextmanager
async def running_demo(
    camera: int | str | None,
    music: MusicWorker | None,
    port: int = 0,
    model_dir: str | Path = MODEL_DIR,
    out: TextIO | None = None,
    store: Store | None = None,
) -> AsyncIterator[WebTransport]:
    """Serve the demo page for a session watching `camera` (None: start from the page).

    Terminal lines go to `out` (default: standard output).
    """
    out = out or sys.stdout
    transport = WebTransport(sample_video=SAMPLE_VIDEO if SAMPLE_VIDEO.is_file() else None)
    report = TerminalReport(out, sample_available=transport.sample_video is not None)

    async def send(event: Event) -> None:
        report.show(event)
        await transport.send(event)

    session = Session(
        send,
        music,
        model_dir=model_dir,
        frame_listener=transport.show_frame,
        store=store,
        profile=DEMO_PROFILE,
    )
    try:
        url = await transport.start(session.handle, port)
        print(f"moodtune demo: open {url}\n(Ctrl+C stops it)", file=out, flush=True)
        await session.open()
        if camera is not None:
            await session.execute(Start(type="start", camera=camera))
        yield transport
    finally:
        await session.close()
        await transport.close()


class TerminalReport:
    """One line, with the time, for each thing a user should notice."""

    def __init__(self, out: TextIO, sample_available: bool) -> None:
        self.out = out
        self.sample_available = sample_available
        self.camera_state = "idle"  # what the session starts in: not news
        self.music_missing = False

    def show(self, event: Event) -> None:
        match event:
            case EmotionEvent():
                self._say(f"mood: {_mood_words(event)}")
            case Status(state=state, camera=camera, detail=detail):
                # Starting is a blink, and an error is told by the error event that follows.
                if state in ("starting", "error") or (state == self.camera_state and not detail):
                    return
                self.camera_state = state
                words = {"camera": f"on ({camera})", "idle": "off", "paused": "paused"}[state]
                self._say(f"camera: {words}" + (f" ({detail})" if detail else ""))
            case Tracks(tracks=tracks, emotion=emotion, language=language, mode=mode):
                self.music_missing = False
                if not tracks:
                    nothing = NOTICES["no_tracks"]
                    self._say(f"no tracks for {emotion} ({language}, {mode}): {nothing.text}")
                    return
                named = "; ".join(f"{t.title} by {', '.join(t.artists)}" for t in tracks[:3])
                more = f" and {len(tracks) - 3} more" if len(tracks) > 3 else ""
                self._say(f"{len(tracks)} tracks for {emotion} ({language}, {mode}): {named}{more}")
            case Error(code="camera_unavailable", message=message):
                self.camera_state = "error"
                self._say(f"no camera: {message}")
                if self.sample_available:
                    self._say(
                        f"try the bundled sample video: moodtune demo --camera {SAMPLE_ALIAS}"
                        " (or click “Play the sample video” on the page)"
                    )
            case Error(
                code="music_unavailable" | "music_unreadable",
                message=message,
                fallback_url=fallback_url,
            ):
                # Said once until music is back: every mood change would repeat it.
                if not self.music_missing:
                    self.music_missing = True
                    self._say(f"no music: {message}")
                    if fallback_url:
                        self._say(f"search YouTube Music yourself: {fallback_url}")
            case Error(code=code, message=message):
                self._say(f"problem ({code}): {message}")

    def _say(self, line: str) -> None:
        print(f"{time.strftime('%H:%M:%S')}  {printable(line)}", file=self.out, flush=True)


def _mood_words(event: EmotionEvent) -> str:
    if event.emotion is None:
        return "none (no face in view)" if not event.face else "none"
    if event.source == "override":
        return f"{event.emotion} (set by hand)"
    return f"{event.emotion} ({event.confidence:.0%})"
