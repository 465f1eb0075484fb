"""Chrome native-messaging framing: a uint32 length in native byte order, then UTF-8 JSON."""

from __future__ import annotations

import struct
from typing import IO

HEADER = struct.Struct("=I")
MAX_OUTGOING = 1024 * 1024  # Chrome refuses larger messages from a host
MAX_INCOMING = 1024 * 1024  # our commands are tiny; a bigger header means a broken stream


class FramingError(Exception):
    """The byte stream cannot be read as messages any more (fatal)."""


def read_frame(stream: IO[bytes]) -> bytes | None:
    """The next message body, or None at a clean end of input."""
    header = _read_up_to(stream, HEADER.size)
    if not header:
        return None
    if len(header) < HEADER.size:
        raise FramingError("input ended inside a message header")
    (length,) = HEADER.unpack(header)
    if length > MAX_INCOMING:
        raise FramingError(f"message length {length} exceeds the {MAX_INCOMING}-byte limit")
    body = _read_up_to(stream, length)
    if len(body) < length:
        raise FramingError(f"input ended after {len(body)} of {length} message bytes")
    return body


def write_frame(stream: IO[bytes], body: bytes) -> None:
    """Write one message body with its header and flush."""
    if len(body) > MAX_OUTGOING:
        raise ValueError(f"message of {len(body)} bytes exceeds Chrome's {MAX_OUTGOING}-byte limit")
    stream.write(HEADER.pack(len(body)) + body)
    stream.flush()


def _read_up_to(stream: IO[bytes], size: int) -> bytes:
    """`size` bytes, joining partial reads; fewer only if the stream ends first."""
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            break
        data += chunk
    return data
