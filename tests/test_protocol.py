"""Commands from the extension: good ones parse, bad ones become errors the host can answer."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from host.protocol import (
    EmotionEvent,
    OverrideMood,
    ProtocolError,
    SetLanguage,
    Start,
    encode_event,
    parse_command,
)


def parse(obj) -> object:
    return parse_command(json.dumps(obj).encode())


def test_start_takes_a_device_index_or_a_video_path():
    assert parse({"type": "start", "camera": 1}) == Start(type="start", camera=1)
    assert parse({"type": "start", "camera": "/tmp/face.mp4"}).camera == "/tmp/face.mp4"
    assert parse({"type": "start"}).camera == 0


def test_override_can_be_cleared_with_null():
    assert parse({"type": "override_mood", "emotion": None}) == OverrideMood(
        type="override_mood", emotion=None
    )


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "bad_json"),
        (b"\xff\xfe", "bad_encoding"),
        (b"[1, 2]", "bad_message"),
        (b'"start"', "bad_message"),
        (b'{"type": "dance"}', "unknown_type"),
        (b'{"camera": 0}', "unknown_type"),
        (b'{"type": "set_mode", "mode": "party"}', "bad_field"),
        (b'{"type": "feedback", "liked": true}', "bad_field"),
        (b'{"type": "start", "camera": -3}', "bad_field"),
        (b'{"type": "ping", "extra": 1}', "bad_field"),
        (b"", "bad_json"),
    ],
)
def test_bad_messages_name_what_is_wrong(body, code):
    with pytest.raises(ProtocolError) as caught:
        parse_command(body)
    assert caught.value.code == code
    assert str(caught.value)


def test_oversized_field_is_refused_with_its_name():
    with pytest.raises(ProtocolError, match="language"):
        parse({"type": "set_language", "language": "x" * 10_000})


def test_language_is_passed_through_for_the_session_to_check():
    assert parse({"type": "set_language", "language": "Hindi"}) == SetLanguage(
        type="set_language", language="Hindi"
    )


def test_emotion_event_carries_the_fields_the_extension_reads():
    event = EmotionEvent(
        emotion="happy", confidence=0.8, probabilities={"happy": 0.8}, face=True, timestamp=1.0
    )
    data = json.loads(encode_event(event))
    assert data["type"] == "emotion"
    assert {"emotion", "confidence", "probabilities", "face", "timestamp"} <= data.keys()


@given(st.dictionaries(st.text(max_size=10), st.none() | st.integers() | st.text(max_size=20)))
def test_any_json_object_parses_or_raises_a_protocol_error(obj):
    try:
        parse(obj)
    except ProtocolError as exc:
        assert exc.code in {"bad_field", "unknown_type"}
