"""Native-messaging framing: what Chrome sends must come out whole, and garbage must be caught."""

from __future__ import annotations

import io
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from host.transports.framing import (
    MAX_INCOMING,
    MAX_OUTGOING,
    FramingError,
    read_frame,
    write_frame,
)


class TrickleStream(io.RawIOBase):
    """A pipe that hands out at most `chunk` bytes per read, as a real pipe may."""

    def __init__(self, data: bytes, chunk: int) -> None:
        self.data, self.chunk, self.pos = data, chunk, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = self.chunk if size < 0 else min(size, self.chunk)
        out = self.data[self.pos : self.pos + size]
        self.pos += len(out)
        return out


def frame(body: bytes) -> bytes:
    return struct.pack("=I", len(body)) + body


def test_round_trip_keeps_several_messages_apart():
    out = io.BytesIO()
    for body in (b'{"type":"ping"}', '{"type":"set_language","language":"हिन्दी"}'.encode()):
        write_frame(out, body)
    stream = io.BytesIO(out.getvalue())
    assert read_frame(stream) == b'{"type":"ping"}'
    assert read_frame(stream).decode() == '{"type":"set_language","language":"हिन्दी"}'
    assert read_frame(stream) is None


def test_partial_reads_are_joined():
    data = frame(b'{"type":"ping","id":7}') * 3
    stream = TrickleStream(data, chunk=3)
    assert [read_frame(stream) for _ in range(3)] == [b'{"type":"ping","id":7}'] * 3
    assert read_frame(stream) is None


def test_zero_length_message_is_an_empty_body():
    assert read_frame(io.BytesIO(frame(b""))) == b""


def test_header_too_large_to_be_real_is_fatal():
    with pytest.raises(FramingError, match="exceeds"):
        read_frame(io.BytesIO(struct.pack("=I", MAX_INCOMING + 1) + b"{}"))


def test_stream_ending_inside_a_message_is_fatal():
    with pytest.raises(FramingError, match="ended"):
        read_frame(io.BytesIO(struct.pack("=I", 10) + b"{}"))
    with pytest.raises(FramingError, match="header"):
        read_frame(io.BytesIO(b"\x05\x00"))


def test_outgoing_message_over_chromes_limit_is_refused_before_writing():
    out = io.BytesIO()
    with pytest.raises(ValueError, match="limit"):
        write_frame(out, b"x" * (MAX_OUTGOING + 1))
    assert out.getvalue() == b""


@given(st.binary(max_size=300), st.integers(min_value=1, max_value=7))
def test_decoder_never_fails_unexpectedly_on_arbitrary_bytes(data, chunk):
    stream = TrickleStream(data, chunk)
    try:
        while read_frame(stream) is not None:
            pass
    except FramingError:
        pass


@given(st.lists(st.binary(max_size=200), max_size=5), st.integers(min_value=1, max_value=9))
def test_any_sequence_of_messages_survives_the_round_trip(bodies, chunk):
    out = io.BytesIO()
    for body in bodies:
        write_frame(out, body)
    stream = TrickleStream(out.getvalue(), chunk)
    assert [read_frame(stream) for _ in bodies] == bodies
    assert read_frame(stream) is None
