"""The native-messaging transport: Chrome starts the host and talks to it over stdin/stdout.

stdout carries frames only, so it is taken over before anything that might print is imported:
the real stdout is kept for frames and file descriptor 1 is pointed at stderr, which also
catches what C libraries print.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from typing import BinaryIO

from host.transports.framing import FramingError, read_frame, write_frame

log = logging.getLogger("host.native")

INPUT_ENDED = object()


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
    """Run the host on stdio until the extension disconnects; the exit status."""
    frames_out = claim_stdout()
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="moodtune %(levelname)s %(name)s: %(message)s"
    )
    return asyncio.run(_serve(sys.stdin.buffer, frames_out))


async def _serve(frames_in: BinaryIO, frames_out: BinaryIO) -> int:
    from host.protocol import Error, Event, encode_event
    from host.session import Session, open_music

    async def send(event: Event) -> None:
        try:
            write_frame(frames_out, encode_event(event))
        except ValueError as exc:
            log.error("dropped an oversized %s event: %s", event.type, exc)
            write_frame(frames_out, encode_event(Error(code="too_large", message=str(exc))))

    inbox: asyncio.Queue[object] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    threading.Thread(target=_read_input, args=(frames_in, loop, inbox), daemon=True).start()
    session = Session(send, open_music())
    try:
        await session.open()
        while True:
            item = await inbox.get()
            if item is INPUT_ENDED:
                return 0
            if isinstance(item, FramingError):
                await send(Error(code="bad_frame", message=str(item), fatal=True))
                return 1
            assert isinstance(item, bytes)
            await session.handle(item)
    except BrokenPipeError:
        return 0
    finally:
        await session.close()


def _read_input(frames_in: BinaryIO, loop: asyncio.AbstractEventLoop, inbox: asyncio.Queue) -> None:
    """Reader thread: stdin's frames into the inbox, then INPUT_ENDED or a FramingError."""
    while True:
        try:
            body = read_frame(frames_in)
        except FramingError as exc:
            loop.call_soon_threadsafe(inbox.put_nowait, exc)
            return
        except OSError:
            body = None
        loop.call_soon_threadsafe(inbox.put_nowait, INPUT_ENDED if body is None else body)
        if body is None:
            return
