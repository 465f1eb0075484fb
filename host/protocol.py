"""The messages between the host and the extension, as pydantic models.

Every message is a JSON object with a `type`. Commands come from the extension; events go to it.
Validation happens here, at the process boundary: anything that does not parse becomes a
`ProtocolError` whose `code` the host sends back in an `error` event.

`python -m host.protocol --js` writes extension/protocol.js and host/web/protocol.js from these
models and host/vocabulary.py; a test fails when the committed files differ.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from host.vocabulary import (
    MODES,
    Emotion,
    ErrorCode,
    Mode,
    MoodSource,
    StatusState,
    TrackReason,
)

PROTOCOL_VERSION = 1
HOST_NAME = "com.moodtune.host"
ShortText = Annotated[str, Field(min_length=1, max_length=64)]
VideoId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{6,20}$")]


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def message_type(message: type[Message]) -> str:
    """The `type` a message class carries on the wire."""
    [kind] = get_args(message.model_fields["type"].annotation)
    return str(kind)


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


COMMANDS: tuple[type[Message], ...] = (
    Start, Stop, Pause, SetLanguage, SetMode, OverrideMood, Feedback, Played, MoreTracks, Ping,
)  # fmt: skip
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
COMMAND_TYPES: tuple[str, ...] = tuple(message_type(c) for c in COMMANDS)

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
    state: StatusState
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
    source: MoodSource = "camera"


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
    reason: TrackReason
    tracks: tuple[TrackInfo, ...]


class Error(Message):
    type: Literal["error"] = "error"
    code: ErrorCode
    message: str
    fatal: bool = False
    fallback_url: str | None = None


class Pong(Message):
    type: Literal["pong"] = "pong"
    id: int | str | None = None


Event = Hello | Status | EmotionEvent | Tracks | Error | Pong
EVENTS: tuple[type[Message], ...] = (Hello, Status, EmotionEvent, Tracks, Error, Pong)


class ProtocolError(ValueError):
    """A command that cannot be carried out as sent; `code` is machine-readable."""

    def __init__(self, code: ErrorCode, message: str) -> None:
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


# What Chrome puts in runtime.lastError when the native port fails before or while it is open.
HOST_NOT_FOUND = "Specified native messaging host not found."
HOST_FORBIDDEN = "Access to the specified native messaging host is forbidden."

GENERATED_JS = ("extension/protocol.js", "host/web/protocol.js")


def javascript() -> str:
    """The ES module both pages import: this vocabulary, with one builder per command."""
    from host import messages
    from host import vocabulary as v

    def text(value: str) -> str:
        assert "'" not in value and "\\" not in value, value
        return f"'{value}'"

    def strings(values: tuple[str, ...]) -> str:
        return f"Object.freeze([{', '.join(text(value) for value in values)}])"

    def names(values: tuple[str, ...]) -> str:
        rows = "".join(f"  {_upper_snake(value)}: {text(value)},\n" for value in values)
        return f"Object.freeze({{\n{rows}}})"

    lines = [
        "// Generated by `python -m host.protocol --js` from host/protocol.py, host/vocabulary.py",
        "// and host/messages.py. Do not edit: change the Python and generate again.",
        "",
        f"export const HOST_NAME = {text(HOST_NAME)};",
        f"export const PROTOCOL_VERSION = {PROTOCOL_VERSION};",
        "",
        f"export const EMOTIONS = {strings(v.EMOTIONS)};",
        f"export const MODES = {strings(v.MODES)};",
        f"export const STATUS_STATES = {strings(v.STATUS_STATES)};",
        f"export const TRACK_REASONS = {strings(v.TRACK_REASONS)};",
        f"export const MOOD_SOURCES = {strings(v.MOOD_SOURCES)};",
        "",
        "// Host → extension, with their fields:",
        *(f"//   {message_type(e):<8} {', '.join(_fields(e))}" for e in EVENTS),
        f"export const EVENT = {names(tuple(message_type(e) for e in EVENTS))};",
        "",
        f"export const ERROR_CODE = {names(v.ERROR_CODES)};",
        "",
        "// Extension → host: one builder per command, so a misspelt field fails here.",
        "export const command = Object.freeze({",
        *(f"  {_builder(c)}," for c in COMMANDS),
        "});",
        "",
        "// Inside the extension: popup/options → service worker, worker ↔ content script.",
        f"export const POPUP_ACTION = {names(v.POPUP_ACTIONS)};",
        f"export const PLAYER_COMMAND = {names(v.PLAYER_COMMANDS)};",
        f"export const PLAYER_REPORT = {names(v.PLAYER_REPORTS)};",
        "",
        "// What Chrome reports in runtime.lastError when a native port fails.",
        f"export const HOST_NOT_FOUND = {text(HOST_NOT_FOUND)};",
        f"export const HOST_FORBIDDEN = {text(HOST_FORBIDDEN)};",
        "",
        *messages.javascript_lines(),
    ]
    return "\n".join(lines)


def _fields(message: type[Message]) -> list[str]:
    return [name for name in message.model_fields if name != "type"]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _upper_snake(name: str) -> str:
    """'set_language' and 'setLanguage' both become 'SET_LANGUAGE'."""
    spaced = "".join(f"_{c}" if c.isupper() else c for c in name)
    return spaced.upper()


def _builder(message: type[Message]) -> str:
    fields = _fields(message)
    params = ", ".join(_camel(f) for f in fields)
    body = ", ".join(
        [f"type: '{message_type(message)}'"]
        + [f if _camel(f) == f else f"{f}: {_camel(f)}" for f in fields]
    )
    return f"{_camel(message_type(message))}: ({params}) => ({{ {body} }})"


def main(argv: list[str] | None = None) -> int:
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="python -m host.protocol", description=__doc__)
    parser.add_argument("--js", action="store_true", help=f"write {' and '.join(GENERATED_JS)}")
    args = parser.parse_args(argv)
    if not args.js:
        parser.print_help()
        return 2
    root = Path(__file__).resolve().parent.parent
    for name in GENERATED_JS:
        (root / name).write_text(javascript(), encoding="utf-8")
        print(f"wrote {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
