"""Every name the host and the extension share, defined once.

The wire protocol (host/protocol.py), the vision and music modules and training import these;
`python -m host.protocol --js` writes them into extension/protocol.js, and a test fails when that
file differs from a fresh generation; the demo page gets the same module from its server.
"""

from __future__ import annotations

from typing import Literal, get_args

Emotion = Literal["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
# The model's output order, and the order every probability list is in.
EMOTIONS: tuple[Emotion, ...] = get_args(Emotion)

Mode = Literal["match", "lift", "calm"]
MODES: tuple[Mode, ...] = get_args(Mode)

# What the camera side is doing, as `status.state` says.
# "away": no face for a while (`set_away`); the camera looks for one a couple of times a second.
StatusState = Literal["idle", "starting", "camera", "away", "paused", "error"]
STATUS_STATES: tuple[StatusState, ...] = get_args(StatusState)

# `status.quality`: whether the face in view can be read; frames that cannot are not used.
FrameQuality = Literal["ok", "too_dark", "too_bright", "face_turned"]
FRAME_QUALITIES: tuple[FrameQuality, ...] = get_args(FrameQuality)

# Why a `tracks` message was sent.
TrackReason = Literal["mood", "language", "mode", "more"]
TRACK_REASONS: tuple[TrackReason, ...] = get_args(TrackReason)

# Where the mood music follows came from.
MoodSource = Literal["camera", "override"]
MOOD_SOURCES: tuple[MoodSource, ...] = get_args(MoodSource)

# `error.code`: stable, machine-readable; the message beside it is for the listener.
ErrorCode = Literal[
    # the message itself
    "bad_encoding",
    "bad_json",
    "bad_message",
    "unknown_type",
    "bad_field",
    "bad_frame",
    "too_large",
    # what the host could not do
    "model_missing",
    "camera_unavailable",
    "unknown_language",
    "music_unavailable",
    "music_unreadable",
    "music_error",
    # calibrating to the listener's resting face (host/vision/calibration.py)
    "calibration_needs_camera",
    "calibration_no_face",
    "calibration_unsteady",
    "calibration_expression",
    # the mood journal (host/music/store.py)
    "journal_error",
    # the host carried on without something
    "store_unavailable",
    "command_failed",
]
ERROR_CODES: tuple[ErrorCode, ...] = get_args(ErrorCode)

# Inside the extension: the popup and options pages ask the service worker for these actions.
PopupAction = Literal[
    "setPrefs",
    "restartCamera",
    "overrideMood",
    "togglePlay",
    "skip",
    "like",
    "showPlayer",
    "reconnect",
    "wake",
    "retryPlayer",  # load YouTube Music again after it failed to load
    "resumeMoodtune",  # the listener hands the tab back to moodtune
    "calibrate",
    "resetCalibration",
]
POPUP_ACTIONS: tuple[PopupAction, ...] = get_args(PopupAction)

# Inside the extension: the worker tells the YouTube Music content script to do these (`status`
# is answered with whether YouTube Music's player is in the page)...
PlayerCommand = Literal["play", "pause", "status"]
PLAYER_COMMANDS: tuple[PlayerCommand, ...] = get_args(PlayerCommand)

# ...and the content script reports what the page's player did: `playing` whatever plays (the
# worker tells moodtune's track from the listener's own), `paused` by the listener, `blocked`
# until a click in the tab, `error` for a track that cannot play there, `ad` before or inside
# a track, `you_there` for a "Continue watching?" answered, `next_track` from the media keys,
# `load_failed` for a page with no working YouTube Music.
PlayerReport = Literal[
    "ready",
    "playing",
    "paused",
    "blocked",
    "ended",
    "error",
    "ad",
    "you_there",
    "next_track",
    "load_failed",
]
PLAYER_REPORTS: tuple[PlayerReport, ...] = get_args(PlayerReport)

# Keyboard shortcuts (the extension manifest's `commands`).
Shortcut = Literal["skip", "like", "toggle_camera"]
SHORTCUTS: tuple[Shortcut, ...] = get_args(Shortcut)
