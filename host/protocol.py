"""The messages between the host and the extension, as pydantic models.

Every message is a JSON object with a `type`. Commands come from the extension; events go to it.
Validation happens here, at the process boundary: anything that does not parse becomes a
`ProtocolError` whose `code` the host sends back in an `error` event.

`python -m host.protocol --js` writes extension/protocol.js from these
models and host/vocabulary.py (a test fails when the committed file differs); the demo page
gets the same module from its own server.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError

from host.vocabulary import (
    MODES,
    Emotion,
    ErrorCode,
    FrameQuality,
    Mode,
    MoodSource,
    StatusState,
    TrackReason,
)

PROTOCOL_VERSION = 1
HOST_NAME = "com.moodtune.host"
ShortText = Annotated[str, Field(min_length=1, max_length=64)]
VideoId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{6,20}$")]
# What crypto.randomUUID() makes: lower-case hex, so never the demo's fixed profile id.
ProfileId = Annotated[
    str, Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
]


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


class Unplayable(Message):
    """The player could not play this track here (unavailable in the listener's region, removed):
    it is not offered again."""

    type: Literal["unplayable"]
    video_id: VideoId


class MoreTracks(Message):
    """The queue is running low: send more tracks for the current mood."""

    type: Literal["more_tracks"]
    count: Annotated[int, Field(ge=1, le=50)] = 10


class SetAway(Message):
    """Go `away` after `after_s` seconds without a face (null: never); see Status."""

    type: Literal["set_away"]
    after_s: Annotated[float, Field(ge=5, le=86400)] | None = 60.0


class Ping(Message):
    type: Literal["ping"]
    id: Annotated[int, Field(ge=0)] | ShortText | None = None


# Commands about the listener: the calibration to their face and the mood journal


class SetProfile(Message):
    """Which browser profile the extension runs in, as its own random id, sent right after
    `hello`: the host keeps a calibration per profile, and answers with a `calibrated` event
    for this one. People who share a computer use a profile each, over one host data folder."""

    type: Literal["set_profile"]
    profile: ProfileId


class Calibrate(Message):
    """Learn the listener's resting face from the next few seconds of the running camera."""

    type: Literal["calibrate"]


class ResetCalibration(Message):
    type: Literal["reset_calibration"]


class GetJournal(Message):
    """The journal between two times (epoch seconds; default: the last 7 days)."""

    type: Literal["get_journal"]
    since: Annotated[float, Field(ge=0)] | None = None
    until: Annotated[float, Field(ge=0)] | None = None


class ExportJournal(Message):
    """The whole journal as CSV, in `journal_export` events."""

    type: Literal["export_journal"]


class DeleteJournal(Message):
    """Delete everything kept about the listener: journal, calibration, play history, likes."""

    type: Literal["delete_journal"]


class SetRetention(Message):
    type: Literal["set_retention"]
    days: Annotated[int, Field(ge=1, le=365)]


COMMANDS: tuple[type[Message], ...] = (
    Start, Stop, Pause, SetLanguage, SetMode, OverrideMood, Feedback, Played, Unplayable,
    MoreTracks, Ping,
    Calibrate, ResetCalibration, GetJournal, ExportJournal, DeleteJournal, SetRetention, SetAway,
    SetProfile,
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
    | Unplayable
    | MoreTracks
    | Ping
    | Calibrate
    | ResetCalibration
    | GetJournal
    | ExportJournal
    | DeleteJournal
    | SetRetention
    | SetAway
    | SetProfile,
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
    # epoch seconds; None: not calibrated, or not known yet: the extension's host learns its
    # profile from `set_profile` after this, and says its calibration in a `calibrated` event
    calibrated_since: float | None = None


class Status(Message):
    """What the camera side is doing: idle, starting, camera (running), away, paused or error.

    `quality` says, while the camera runs, whether the face in view can be read ("ok"), or why
    not; it is sent again whenever it changes.
    """

    type: Literal["status"] = "status"
    state: StatusState
    camera: int | str | None = None
    face: bool = False
    detail: str | None = None
    quality: FrameQuality | None = None
    calibrated_since: float | None = None


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


# Events about the listener


class CalibrationProgress(Message):
    """A calibration is collecting the resting face: `progress` goes 0 → 1 over `seconds`."""

    type: Literal["calibration_progress"] = "calibration_progress"
    progress: float
    seconds: float


class Calibrated(Message):
    """The calibration now in use: `since` when it was made; None after a reset."""

    type: Literal["calibrated"] = "calibrated"
    since: float | None


class JournalMood(Message):
    emotion: Emotion
    confidence: float
    source: Literal["camera", "hand"]
    start: float
    end: float


class JournalTrack(Message):
    video_id: str
    title: str
    artists: tuple[str, ...]
    emotion: Emotion
    at: float


class JournalEvent(Message):
    type: Literal["journal"] = "journal"
    since: float
    until: float
    moods: tuple[JournalMood, ...]
    tracks: tuple[JournalTrack, ...]
    retention_days: int


class JournalExport(Message):
    """One part of the CSV export; the listener's file is the parts joined, in order."""

    type: Literal["journal_export"] = "journal_export"
    part: int
    parts: int
    csv: str


class JournalDeleted(Message):
    type: Literal["journal_deleted"] = "journal_deleted"


Event = (
    Hello
    | Status
    | EmotionEvent
    | Tracks
    | Error
    | Pong
    | CalibrationProgress
    | Calibrated
    | JournalEvent
    | JournalExport
    | JournalDeleted
)
EVENTS: tuple[type[Message], ...] = (
    Hello, Status, EmotionEvent, Tracks, Error, Pong,
    CalibrationProgress, Calibrated, JournalEvent, JournalExport, JournalDeleted,
)  # fmt: skip


class ProtocolError(ValueError):
    """A command that cannot be carried out as sent; `code` is machine-readable."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


_command_adapter: TypeAdapter[Command] = TypeAdapter(Command)

# Limits checked before pydantic sees a message. Commands are flat objects of short values; these
# bounds are far above any real one and keep hostile input (a 1,000-deep array, a 5,000-digit
# number) from reaching code that would raise something other than a clean ProtocolError.
MAX_DEPTH = 16
MAX_INT_DIGITS = 20
MAX_STRING = 4096
# What an error message quotes of the input: enough to recognise it, never the whole of it.
QUOTE_LIMIT = 40

_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_command(payload: bytes) -> Command:
    """The command in a message body; raises ProtocolError saying what is wrong with it."""
    data = _decode(payload)
    if not isinstance(data, dict):
        raise ProtocolError("bad_message", "message must be a JSON object")
    kind = data.get("type")
    if kind not in COMMAND_TYPES:
        raise ProtocolError(
            "unknown_type",
            f"unknown message type {quote(kind)}; expected one of {', '.join(COMMAND_TYPES)}",
        )
    try:
        return _command_adapter.validate_python(data)
    except ValidationError as exc:
        raise ProtocolError("bad_field", f"bad {kind!r} message: {_first_problem(exc)}") from None


class _NumberTooLong(ValueError):
    pass


def _decode(payload: bytes) -> object:
    """The JSON value in `payload`, within the limits above; raises ProtocolError."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError("bad_encoding", "message is not valid UTF-8") from None
    depth = _nesting(text)
    if depth > MAX_DEPTH:
        raise ProtocolError("bad_message", f"message is nested more than {MAX_DEPTH} levels deep")
    try:
        data = json.loads(text, parse_int=_bounded_int, parse_constant=_no_constant)
    except _NumberTooLong:
        raise ProtocolError(
            "bad_field", f"message has a number longer than {MAX_INT_DIGITS} digits"
        ) from None
    except json.JSONDecodeError as exc:
        raise ProtocolError("bad_json", f"message is not valid JSON: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:  # anything else the decoder refuses
        raise ProtocolError("bad_json", f"message is not valid JSON: {exc}") from None
    _check_strings(data)
    return data


def _nesting(text: str) -> int:
    """How deep arrays and objects nest in `text`, counted up to MAX_DEPTH + 1."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0  # cannot nest deeper than it has brackets; the common case costs two counts
    depth = 0
    for bracket in _BRACKET.finditer(_JSON_STRING.sub("", text)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > MAX_DEPTH:
            return depth
    return 0


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise _NumberTooLong(digits)
    return int(digits)


def _no_constant(name: str) -> object:
    raise json.JSONDecodeError(f"{name} is not a JSON value", name, 0)


def _check_strings(value: object, where: str = "message") -> None:
    """Refuse over-long texts and unpaired surrogates (they cannot be sent back as UTF-8)."""
    if isinstance(value, str):
        if len(value) > MAX_STRING:
            raise ProtocolError("bad_field", f"{where}: a text longer than {MAX_STRING} characters")
        if _SURROGATE.search(value):
            raise ProtocolError(
                "bad_encoding", f"{where}: an unpaired surrogate (\\ud800-\\udfff) in a text"
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key, where)
            _check_strings(item, key[:QUOTE_LIMIT] if key.isidentifier() else where)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item, where)


def quote(value: object) -> str:
    """`value` as an error message shows it: repr, cut to QUOTE_LIMIT characters."""
    shown = repr(value)
    return shown if len(shown) <= QUOTE_LIMIT else shown[: QUOTE_LIMIT - 1] + "…"


def _first_problem(exc: ValidationError) -> str:
    """'field: what is wrong' for the first error, without pydantic's union-branch names."""
    error = exc.errors()[0]
    fields = [
        str(p)[:QUOTE_LIMIT] for p in error["loc"][1:] if isinstance(p, int) or p.isidentifier()
    ]
    return f"{'.'.join(fields) or 'message'}: {error['msg']}"


def encode_event(event: Event) -> bytes:
    """The event as compact UTF-8 JSON.

    Text from the network may hold unpaired surrogates, which UTF-8 cannot carry; such an
    event is still sent, with those characters replaced.
    """
    try:
        return event.model_dump_json(exclude_none=False).encode("utf-8")
    except PydanticSerializationError:
        text = json.dumps(event.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8", "replace")


# What Chrome puts in runtime.lastError when the native port fails before or while it is open.
HOST_NOT_FOUND = "Specified native messaging host not found."
HOST_FORBIDDEN = "Access to the specified native messaging host is forbidden."

# The demo page gets the same module from its server (host/transports/web.py), made on the spot.
GENERATED_JS = "extension/protocol.js"


def javascript() -> str:
    """The ES module both pages import: this vocabulary, with one builder per command."""
    from host import messages
    from host import vocabulary as v
    from host.vision.calibration import CALIBRATION_S

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
        f"export const FRAME_QUALITIES = {strings(v.FRAME_QUALITIES)};",
        f"export const CALIBRATION_SECONDS = {CALIBRATION_S:g};",
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
        "// Keyboard shortcuts: the manifest's `commands`, changeable in chrome://extensions/shortcuts.",
        f"export const SHORTCUT = {names(v.SHORTCUTS)};",
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
    parser.add_argument("--js", action="store_true", help=f"write {GENERATED_JS}")
    args = parser.parse_args(argv)
    if not args.js:
        parser.print_help()
        return 2
    root = Path(__file__).resolve().parent.parent
    (root / GENERATED_JS).write_text(javascript(), encoding="utf-8")
    print(f"wrote {GENERATED_JS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
