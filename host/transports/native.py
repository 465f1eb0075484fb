"""The native-messaging transport: Chrome starts the host and talks to it over stdin/stdout.

stdout carries frames only, so it is taken over before anything that might print is imported:
the real stdout is kept for frames and file descriptor 1 is pointed at stderr, which also
catches what C libraries print.

The host ends only at end of input, on a framing error, when the browser closes the host's
output, or on a signal; every command's failure is an `error` event instead. It leaves within
`EXIT_S` of the end of input, whatever the music thread or the camera is doing: commands still
queued get a moment, the session gets a moment to release the camera, and then the process ends
with `os._exit`, so no daemon thread (a fetch stuck on the network, the stdin reader) is waited
for or torn down under the interpreter's feet at shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, BinaryIO

from host.transports.framing import MAX_OUTGOING, FramingError, read_frame, write_frame

if TYPE_CHECKING:
    from host.protocol import Event

log = logging.getLogger("host.native")

#: After end of input: seconds for the commands already read, then for the session to close.
DRAIN_S = 0.5
CLOSE_S = 1.0
#: Seconds for the last log lines and frames to be flushed before the process ends.
FLUSH_S = 0.3
#: An error message longer than this is cut (with its code kept), so it always fits a frame.
ERROR_MESSAGE_LIMIT = 2000

INPUT_ENDED = object()
# The camera the extension last asked for, kept in the data folder for `moodtune doctor`.
CAMERA_CHOICE_FILE = "extension-camera.json"


def claim_stdout() -> BinaryIO:
    """A binary stream on the original stdout; fd 1 and sys.stdout now go to stderr."""
    if sys.platform == "win32":
        import msvcrt

        msvcrt.setmode(sys.stdin.fileno(), os.O_BINARY)
        msvcrt.setmode(sys.stdout.fileno(), os.O_BINARY)
    sys.stdout.flush()
    frames = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    return frames


def serve() -> int:
    """Run the host on stdio until the extension disconnects; ends the process with its status."""
    frames_out = claim_stdout()
    from host import __version__
    from host.logfile import start_logging

    path = start_logging()
    log.info("moodtune host %s started (pid %d); log at %s", __version__, os.getpid(), path)
    # Unbuffered reads straight from the file descriptor: the reader thread never holds the
    # lock of a buffered stdin, which the interpreter would trip over at shutdown (SIGABRT).
    frames_in = open(sys.stdin.fileno(), "rb", buffering=0, closefd=False)  # noqa: SIM115
    status = 1
    try:
        status = asyncio.new_event_loop().run_until_complete(_serve(frames_in, frames_out))
    except BaseException:
        log.exception("the host stopped on an unexpected error")
    _flush(frames_out)
    os._exit(status)


async def _serve(frames_in: BinaryIO, frames_out: BinaryIO) -> int:
    from host.music.store import Store
    from host.protocol import Error
    from host.session import Session, open_music

    loop = asyncio.get_running_loop()
    ended: asyncio.Future[int] = loop.create_future()
    output_open = True

    def finish(status: int) -> None:
        if not ended.done():
            ended.set_result(status)

    async def send(event: Event) -> None:
        nonlocal output_open
        if not output_open:
            return
        try:
            write_frame(frames_out, _encoded(event))
        except OSError as exc:  # the browser closed our stdout: it has gone away
            output_open = False
            log.info("the browser closed the host's output (%s); stopping", exc)
            finish(0)

    async def fatal(problem: FramingError) -> None:
        await send(Error(code="bad_frame", message=str(problem), fatal=True))
        finish(1)

    inbox: asyncio.Queue[object] = asyncio.Queue()
    tasks: set[asyncio.Future[None]] = set()
    store = Store()
    session = Session(send, open_music(store), store=store)

    async def serve_commands() -> None:
        await session.open()
        while (body := await inbox.get()) is not INPUT_ENDED:
            assert isinstance(body, bytes)
            asked_for = session.camera_source
            await session.handle(body)
            if session.camera_source not in (None, asked_for):
                save_camera_choice(session.camera_source)

    def on_input(item: object) -> None:
        if isinstance(item, FramingError):
            tasks.add(asyncio.ensure_future(fatal(item)))
            return
        inbox.put_nowait(item)
        if item is INPUT_ENDED:
            # The commands read before the end get this long, then the host leaves regardless.
            loop.call_later(DRAIN_S, finish, 0)

    commands = asyncio.ensure_future(serve_commands())
    commands.add_done_callback(lambda task: _commands_ended(task, finish))
    threading.Thread(
        target=_read_input, args=(frames_in, loop, on_input), name="moodtune-stdin", daemon=True
    ).start()
    status = await ended
    commands.cancel()
    try:
        await asyncio.wait_for(session.close(), CLOSE_S)
    except (TimeoutError, asyncio.TimeoutError):
        log.warning("the session did not close within %.1f s; leaving anyway", CLOSE_S)
    except Exception:
        log.exception("closing the session failed")
    return status


def _commands_ended(task: asyncio.Future[None], finish: Callable[[int], None]) -> None:
    """Commands end at INPUT_ENDED (a clean end, status 0) or, unexpectedly, on an error."""
    if task.cancelled():
        return
    problem = task.exception()
    if problem is not None:
        log.error("the host cannot go on serving", exc_info=problem)
        finish(1)
    else:
        finish(0)


def _encoded(event: Event) -> bytes:
    """The event's frame body; an over-long error is cut, keeping its code; another event too
    large to send becomes an error saying so."""
    from host.protocol import Error, encode_event

    body = encode_event(event)
    if len(body) <= MAX_OUTGOING:
        return body
    if isinstance(event, Error):
        cut = len(event.message) - ERROR_MESSAGE_LIMIT
        message = f"{event.message[:ERROR_MESSAGE_LIMIT]}… ({cut} more characters cut)"
        return encode_event(event.model_copy(update={"message": message}))
    log.error("dropped a %s event of %d bytes (over %d)", event.type, len(body), MAX_OUTGOING)
    problem = Error(
        code="too_large",
        message=f"moodtune could not send a {event.type} message of {len(body)} bytes: "
        f"it is over the browser's limit of {MAX_OUTGOING} bytes for one message",
    )
    return encode_event(problem)


def _read_input(
    frames_in: BinaryIO, loop: asyncio.AbstractEventLoop, on_input: Callable[[object], None]
) -> None:
    """Reader thread: each frame's body to `on_input` on the loop, then INPUT_ENDED or the
    FramingError that ended the stream."""
    while True:
        try:
            body = read_frame(frames_in)
        except FramingError as exc:
            loop.call_soon_threadsafe(on_input, exc)
            return
        except OSError:
            body = None
        try:
            loop.call_soon_threadsafe(on_input, INPUT_ENDED if body is None else body)
        except RuntimeError:  # the loop has closed: the host is on its way out
            return
        if body is None:
            return


def _flush(frames_out: BinaryIO) -> None:
    """Flush the frames and the log, waiting at most FLUSH_S: a thread stuck writing to a
    full stderr pipe must not keep the process from ending."""

    def flush() -> None:
        # The process is ending: a stream that cannot be flushed has nobody left to tell.
        for handler in logging.getLogger().handlers:
            with contextlib.suppress(Exception):
                handler.flush()
        for stream in (frames_out, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()

    flusher = threading.Thread(target=flush, name="moodtune-flush", daemon=True)
    flusher.start()
    flusher.join(FLUSH_S)


def save_camera_choice(camera: int | str) -> None:
    """Note the camera the extension chose; a failure to write it only costs the doctor a guess."""
    from host.paths import data_dir

    try:
        path = data_dir() / CAMERA_CHOICE_FILE
        written = path.with_suffix(".tmp")
        written.write_text(json.dumps({"camera": camera}), encoding="utf-8")
        written.replace(path)
    except OSError as exc:
        log.warning("could not note the camera choice: %s", exc)


def saved_camera_choice() -> int | str | None:
    """The camera the extension last started, if the host has noted one."""
    from host.paths import data_dir

    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        camera = json.loads((data_dir() / CAMERA_CHOICE_FILE).read_text(encoding="utf-8"))["camera"]
        if isinstance(camera, (int, str)) and not isinstance(camera, bool):
            return camera
    return None
