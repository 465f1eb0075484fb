"""The message vocabulary between the host and the extension (mirrored in extension/protocol.js).

Every message is a JSON object with a `type`. Commands come from the extension; events go to it.
Validation happens here, at the process boundary: anything that does not parse becomes a
`ProtocolError` whose `code` the host sends back in an `error` event.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

PROTOCOL_VERSION = 1
EMOTIONS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
MODES = ("match", "lift", "calm")

Emotion = Literal["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
Mode = Literal["match", "lift", "calm"]
ShortText = Annotated[str, Field(min_length=1, max_length=64)]
VideoId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{6,20}$")]


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Commands: extension → host


class Start(Message):
    """Open the camera (a device index or a video file path) and follow the face."""

    type: Literal["start"]
    camera: (
        Annotated[int, Field(ge=0, le=63)] | Annotated[str, Field(min_length=1, max_length=4096)]
    ) = 0


class Stop(Message):
    """Close the camera; the mood goes back to unknown."""

    type: Literal["stop"]


class Pause(Message):
    """Release the camera but keep the current mood and queue (privacy pause)."""

    type: Literal["pause"]


class SetLanguage(Message):
    type: Literal["set_language"]
    language: ShortText


class SetMode(Message):
    type: Literal["set_mode"]
    mode: Mode


class OverrideMood(Message):
    """Pin the mood by hand; `emotion: null` hands control back to the camera."""

    type: Literal["override_mood"]
    emotion: Emotion | None


class Feedback(Message):
    type: Literal["feedback"]
    video_id: VideoId
    liked: bool


class Played(Message):
    """The player started this track (recorded so it does not repeat soon)."""

    type: Literal["played"]
    video_id: VideoId


class MoreTracks(Message):
    """The queue is running low: send more tracks for the current mood."""

    type: Literal["more_tracks"]
    count: Annotated[int, Field(ge=1, le=50)] = 10


class Ping(Message):
    type: Literal["ping"]
    id: Annotated[int, Field(ge=0)] | ShortText | None = None


Command = Annotated[
    Start
    | Stop
    | Pause
    | SetLanguage
    | SetMode
    | OverrideMood
    | Feedback
    | Played
    | MoreTracks
    | Ping,
    Field(discriminator="type"),
]
COMMAND_TYPES = (
    "start", "stop", "pause", "set_language", "set_mode", "override_mood", "feedback", "played",
    "more_tracks", "ping",
)  # fmt: skip

# Events: host → extension


class ModelInfo(Message):
    name: str
    labels: tuple[str, ...]
    accuracy: float | None = None


class Hello(Message):
    type: Literal["hello"] = "hello"
    protocol: int = PROTOCOL_VERSION
    version: str
    model: ModelInfo | None
    languages: dict[str, str]
    modes: tuple[str, ...] = MODES
    language: str
    mode: Mode


class Status(Message):
    """What the camera side is doing: idle, starting, camera (running), paused or error."""

    type: Literal["status"] = "status"
    state: Literal["idle", "starting", "camera", "paused", "error"]
    camera: int | str | None = None
    face: bool = False
    detail: str | None = None


class EmotionEvent(Message):
    """The mood changed (sent on change only, after smoothing), or `face` came or went."""

    type: Literal["emotion"] = "emotion"
    emotion: Emotion | None
    confidence: float
    probabilities: dict[str, float]
    face: bool
    timestamp: float
    source: Literal["camera", "override"] = "camera"


class TrackInfo(Message):
    video_id: str
    title: str
    artists: tuple[str, ...]
    album: str | None = None
    duration_s: int | None = None
    thumbnail: str | None = None
    reason: str


class Tracks(Message):
    type: Literal["tracks"] = "tracks"
    emotion: Emotion
    mode: Mode
    language: str
    reason: Literal["mood", "language", "mode", "more"]
    tracks: tuple[TrackInfo, ...]


class Error(Message):
    type: Literal["error"] = "error"
    code: str
    message: str
    fatal: bool = False
    fallback_url: str | None = None


class Pong(Message):
    type: Literal["pong"] = "pong"
    id: int | str | None = None


Event = Hello | Status | EmotionEvent | Tracks | Error | Pong


class ProtocolError(ValueError):
    """A command that cannot be carried out as sent; `code` is machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


_command_adapter: TypeAdapter[Command] = TypeAdapter(Command)


def parse_command(payload: bytes) -> Command:
    """The command in a message body; raises ProtocolError saying what is wrong with it."""
    try:
        data = json.loads(payload.decode("utf-8"))
    except UnicodeDecodeError:
        raise ProtocolError("bad_encoding", "message is not valid UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ProtocolError("bad_json", f"message is not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_message", "message must be a JSON object")
    kind = data.get("type")
    if kind not in COMMAND_TYPES:
        raise ProtocolError(
            "unknown_type",
            f"unknown message type {kind!r}; expected one of {', '.join(COMMAND_TYPES)}",
        )
    try:
        return _command_adapter.validate_python(data)
    except ValidationError as exc:
        raise ProtocolError("bad_field", f"bad {kind!r} message: {_first_problem(exc)}") from None


def _first_problem(exc: ValidationError) -> str:
    """'field: what is wrong' for the first error, without pydantic's union-branch names."""
    error = exc.errors()[0]
    fields = [str(p) for p in error["loc"][1:] if isinstance(p, int) or p.isidentifier()]
    return f"{'.'.join(fields) or 'message'}: {error['msg']}"


def encode_event(event: Event) -> bytes:
    """The event as compact UTF-8 JSON."""
    return event.model_dump_json(exclude_none=False).encode("utf-8")
