"""What the listener reads for every state they can meet: one table, for the popup and the demo.

Each notice is keyed by one of the protocol's error codes or camera states (host/vocabulary.py),
or by a situation only a page can see (the host is not installed, no face is in view, ...). It
says what happened (`title`), what to do (`text`), and offers the actions that do it; a page shows
every action of the notice it can carry out. `clears` names what makes the notice stop being
true, so a page takes it down then.

Words in braces are filled in by the page: {camera} (what the camera setting says, a device
number or a file path), {camera_name} (the same in words: "the webcam", "webcam 2", a file name).

`python -m host.protocol --js` writes this table into extension/protocol.js
(NOTICES, ACTION_LABELS, MOOD_LOOKS and the `notice()` helper), and the demo server makes the
same module for its page, so both pages say the same words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from host.vocabulary import Emotion, ErrorCode, FrameQuality, StatusState

# States a page works out for itself; the host never sends these names.
Situation = Literal[
    "not_installed",  # the browser finds no native host registration
    "forbidden",  # the registration does not allow this extension
    "disconnected",  # the host stopped; the extension starts it again
    "demo_stopped",  # the demo page lost its server
    "no_face",  # the camera runs, but no face is in view
    "video_file_unavailable",  # camera_unavailable, when the camera setting is a video file
    "video_ended",  # a video file used as the camera played to its end
    "no_music_yet",  # connected, nothing played yet
    "no_tracks",  # YouTube Music answered, with nothing for this mood and language
    "play_blocked",  # the browser will not start music in the player tab without a click there
    "camera_start_held",  # the host stopped while starting this camera; not started again
    "player_unloaded",  # the player tab has no working YouTube Music (error page, offline)
    "ad_playing",  # an ad plays in the player tab before (or inside) moodtune's track
    "listener_choosing",  # the listener plays something of their own in the player tab
]
SITUATIONS: tuple[Situation, ...] = get_args(Situation)

NoticeKey = ErrorCode | StatusState | FrameQuality | Situation

# What a page can do about a notice. The popup and the demo each carry out the ones they can.
Action = Literal[
    "retry",  # the popup: connect to the host again; the demo: start the same camera again
    "reconnect",
    "open_settings",  # the extension's settings page, where the camera is chosen
    "play_sample",  # the demo's bundled sample video
    "search_music",  # the error's fallback_url: a YouTube Music search for the mood
    "show_player",  # bring the extension's YouTube Music tab to the front
    "retry_player",  # load YouTube Music in the player tab again
    "resume_moodtune",  # the listener hands the player tab back to moodtune
]
ACTION_LABELS: dict[Action, str] = {
    "retry": "Try again",
    "reconnect": "Reconnect now",
    "open_settings": "Open Settings",
    "play_sample": "Play the sample video",
    "search_music": "Search YouTube Music",
    "show_player": "Show the tab",
    "retry_player": "Retry",
    "resume_moodtune": "Resume moodtune",
}

# What takes a notice down: the listener switched the camera off (or paused it), the camera
# runs and gives frames, tracks arrived, a new host said hello.
Clear = Literal["camera_off", "camera_running", "tracks", "hello"]
Tone = Literal["info", "warn", "bad"]

INSTALL_COMMAND = "pip install -e . && moodtune install"


@dataclass(frozen=True)
class Notice:
    """One state, as the listener reads it."""

    title: str  # what happened, in a few words
    text: str  # what to do: whole sentences, each ending in a full stop
    actions: tuple[Action, ...] = ()
    command: str | None = None  # a terminal command the text asks for, shown to copy
    clears: tuple[Clear, ...] = ()
    tone: Tone = "warn"


_MISMATCH = Notice(
    "moodtune's parts do not match",
    "The extension and the moodtune program on this computer are different versions. In the "
    "moodtune folder, run the command below, then reload the extension.",
    command=INSTALL_COMMAND,
    clears=("hello",),
    tone="bad",
)
_CAMERA_CLEARS: tuple[Clear, ...] = ("camera_off", "camera_running")

ERROR_NOTICES: dict[ErrorCode, Notice] = {
    # The extension sent something the host does not understand: only versions out of step do.
    "bad_encoding": _MISMATCH,
    "bad_json": _MISMATCH,
    "bad_message": _MISMATCH,
    "unknown_type": _MISMATCH,
    "bad_field": _MISMATCH,
    "bad_frame": _MISMATCH,
    "too_large": _MISMATCH,
    "model_missing": Notice(
        "The emotion model is missing",
        "moodtune cannot read moods without it; you can still pick a mood by hand. Run "
        "moodtune doctor in a terminal: it says which file is missing and how to restore it.",
        command="moodtune doctor",
        clears=("hello",),
        tone="bad",
    ),
    "camera_unavailable": Notice(
        "{camera_name} is not available",
        "It may be unplugged, or another app (a video call) may be using it. Plug it in or "
        "close that app, then try again; or choose a video file instead.",
        actions=("retry", "open_settings", "play_sample"),
        clears=_CAMERA_CLEARS,
    ),
    "unknown_language": Notice(
        "That language is not available",
        "Pick one of the languages in the list.",
        clears=("tracks",),
    ),
    "music_unavailable": Notice(
        "YouTube Music cannot be reached",
        "No music is saved yet for this mood and language. Check the internet connection: "
        "moodtune asks again when your mood changes. Until then you can search YouTube Music "
        "yourself.",
        actions=("search_music",),
        clears=("tracks", "camera_off"),
    ),
    "music_unreadable": Notice(
        "YouTube Music answered something moodtune cannot read",
        "YouTube Music is reachable, but its answer was not one moodtune knows (it may have "
        "changed; a moodtune update would fix it). No music is saved yet for this mood and "
        "language. Until then you can search YouTube Music yourself.",
        actions=("search_music",),
        clears=("tracks", "camera_off"),
    ),
    "store_unavailable": Notice(
        "moodtune cannot save what you like",
        "Its memory file cannot be opened or written (the disk may be full or read-only). "
        "Music and the camera work as usual, but likes, skips and what was played are "
        "forgotten when the browser closes. Run moodtune doctor in a terminal to see why.",
        command="moodtune doctor",
        clears=("hello",),
        tone="info",
    ),
    "command_failed": Notice(
        "moodtune could not do that",
        "Something went wrong inside moodtune; it carries on. Try again. If it keeps "
        "happening, run moodtune doctor in a terminal: it shows the last error in its log.",
        command="moodtune doctor",
        clears=("hello", "tracks", "camera_running"),
    ),
    "music_error": Notice(
        "moodtune could not choose music",
        "Asking YouTube Music for tracks went wrong. moodtune asks again when your mood "
        "changes; if this keeps happening, moodtune doctor shows where its log is.",
        command="moodtune doctor",
        clears=("tracks", "camera_off"),
    ),
    # Calibrating to the listener's face (host/vision/calibration.py): the popup and the demo
    # show these beside their "Calibrate to my face" button, which is how to try again.
    "calibration_needs_camera": Notice(
        "The camera is off",
        "Calibrating needs the camera. Turn it on, then choose Calibrate to my face again.",
        clears=("camera_running",),
        tone="info",
    ),
    "calibration_no_face": Notice(
        "No face was seen",
        "Sit facing the camera in your usual light, then try again.",
        clears=("camera_off",),
    ),
    "calibration_unsteady": Notice(
        "Your face moved too much",
        "Keep still and look at the screen as you usually do for 5 seconds, then try again.",
        clears=("camera_off",),
    ),
    "calibration_expression": Notice(
        "That looked like a smile",
        "Calibration learns your resting face: try again with your usual face.",
        clears=("camera_off",),
    ),
    "journal_error": Notice(
        "The mood journal could not be read",
        "Something went wrong with the file it is kept in. Try again; if this keeps happening, "
        "moodtune doctor shows where its log is.",
        command="moodtune doctor",
    ),
}

STATE_NOTICES: dict[StatusState, Notice] = {
    "idle": Notice(
        "The camera is off",
        "Turn the camera on and moodtune follows your mood.",
        tone="info",
    ),
    "starting": Notice(
        "Starting the camera…",
        "This takes a few seconds.",
        tone="info",
    ),
    "camera": Notice(
        "Watching {camera_name}",
        "moodtune follows your face. The picture never leaves this computer.",
        tone="info",
    ),
    "away": Notice(
        "You seem to be away",
        "No face has been in view for a while, so moodtune looks only now and then, and pauses "
        "the music if you chose that in the settings. Come back in view and it carries on.",
        tone="info",
    ),
    "paused": Notice(
        "The camera is paused",
        "The last mood and its music carry on. Turn the camera on to follow your face again.",
        tone="info",
    ),
    "error": Notice(
        "The camera could not start",
        "Check that it is plugged in and free, then try again; or choose a video file instead.",
        actions=("retry", "open_settings", "play_sample"),
        clears=_CAMERA_CLEARS,
    ),
}

# Why the face in view cannot be read ("ok" needs no notice); the mood stays as it was.
QUALITY_NOTICES: dict[FrameQuality, Notice] = {
    "too_dark": Notice(
        "It is too dark to read your face",
        "Turn on a light in front of you, or face a window. The mood stays as it was meanwhile.",
        clears=("camera_off",),
    ),
    "too_bright": Notice(
        "The picture is washed out",
        "Bright light behind or on the camera hides your face. Move away from the window or "
        "dim the light. The mood stays as it was meanwhile.",
        clears=("camera_off",),
    ),
    "face_turned": Notice(
        "Your face is turned away",
        "moodtune reads faces that look towards the screen. The mood stays as it was until you "
        "face it again, and the music plays on.",
        clears=("camera_off",),
    ),
}

SITUATION_NOTICES: dict[Situation, Notice] = {
    "not_installed": Notice(
        "Install the moodtune program",
        "moodtune needs its small program on this computer to read your camera. In a "
        "terminal, in the moodtune folder (the one with pyproject.toml), run the command "
        "below, then try again.",
        actions=("retry",),
        command=INSTALL_COMMAND,
        clears=("hello",),
        tone="bad",
    ),
    "forbidden": Notice(
        "moodtune's program does not know this extension",
        "It was installed for another copy of the extension. Run the installer again, then "
        "try again.",
        actions=("retry",),
        command="moodtune install",
        clears=("hello",),
        tone="bad",
    ),
    "disconnected": Notice(
        "The moodtune program stopped",
        "moodtune starts it again by itself in a few seconds. If it keeps stopping, run "
        "moodtune doctor in a terminal.",
        actions=("reconnect",),
        command="moodtune doctor",
        clears=("hello",),
        tone="bad",
    ),
    "demo_stopped": Notice(
        "The demo has stopped",
        "Run moodtune demo in a terminal again and open the new address it prints.",
        command="moodtune demo",
        tone="bad",
    ),
    "no_face": Notice(
        "No face in view",
        "Face the camera in good light. The mood settles a few seconds after a face appears.",
        tone="info",
    ),
    "video_file_unavailable": Notice(
        "The video file cannot be played",
        "moodtune cannot open {camera}. Check that the file is there and is a video, or "
        "choose another file or a webcam.",
        actions=("open_settings", "play_sample"),
        clears=_CAMERA_CLEARS,
    ),
    "video_ended": Notice(
        "The video has ended",
        "Start it again to watch it once more, or choose a webcam.",
        actions=("retry", "open_settings", "play_sample"),
        clears=_CAMERA_CLEARS,
        tone="info",
    ),
    "no_music_yet": Notice(
        "Nothing playing yet",
        "Music starts once moodtune has read your mood, or when you pick a mood by hand.",
        tone="info",
    ),
    "no_tracks": Notice(
        "No tracks for this mood",
        "YouTube Music found nothing for this mood and language. Try another language or mode.",
        clears=("tracks",),
    ),
    "play_blocked": Notice(
        "Click once in the YouTube Music tab to allow sound",
        "Your browser lets a site play sound only after a click in it. The music starts then.",
        actions=("show_player",),
    ),
    "camera_start_held": Notice(
        "{camera_name} was not started again",
        "The moodtune program stopped while starting it, so moodtune did not start it again by "
        "itself. Check the camera in Settings, then try again.",
        actions=("retry", "open_settings"),
    ),
    "player_unloaded": Notice(
        "YouTube Music did not load",
        "Check your internet connection. moodtune tries again by itself and keeps your queue.",
        actions=("retry_player",),
        tone="bad",
    ),
    "ad_playing": Notice(
        "Ad playing — your track is next",
        "YouTube Music plays an ad first; moodtune waits for it to end.",
        tone="info",
    ),
    "listener_choosing": Notice(
        "You're choosing",
        "You played something of your own in the YouTube Music tab, so moodtune leaves the "
        "music to you until you resume it.",
        actions=("resume_moodtune",),
        tone="info",
    ),
}

NOTICES: dict[str, Notice] = {
    str(key): notice
    for table in (
        ERROR_NOTICES.items(),
        STATE_NOTICES.items(),
        QUALITY_NOTICES.items(),
        SITUATION_NOTICES.items(),
    )
    for key, notice in table
}

# Placeholders a notice may use; the pages fill every one (see `notice()` in protocol.js).
PLACEHOLDERS = ("camera", "camera_name")


@dataclass(frozen=True)
class MoodLook:
    """How a mood is drawn: a colour, and the mouth (and brows) of a small SVG face."""

    name: str
    colour: str
    mouth: str
    brows: str | None = None
    open_mouth: bool = False


# Both pages draw these faces, so neither depends on an emoji font; `None` is "no mood yet".
MOOD_LOOKS: dict[Emotion | Literal["none"], MoodLook] = {
    "angry": MoodLook("Angry", "#ee7b6b", "M8.5 16h7", "M6.5 7.5l4 1.5M17.5 7.5l-4 1.5"),
    "disgust": MoodLook("Disgust", "#93c47d", "M8 15.5l8 1.5"),
    "fear": MoodLook("Fear", "#b49ae6", "M7.5 16q1.5-2 3 0t3 0 3 0", "M7 8l3.5-1.2M17 8l-3.5-1.2"),
    "happy": MoodLook("Happy", "#f7c948", "M7.5 13.5q4.5 4.5 9 0"),
    "neutral": MoodLook("Neutral", "#c3c8d2", "M8 15.5h8"),
    "sad": MoodLook("Sad", "#7aa7e0", "M8 16.5q4-3.5 8 0"),
    "surprise": MoodLook("Surprise", "#f6a25e", "M12 13.2a2.3 2.8 0 1 0 .01 0z", open_mouth=True),
    "none": MoodLook("No mood yet", "#e4e7ed", "M9 15.5h6"),
}


def javascript_lines() -> list[str]:
    """This table as ES module code, for `python -m host.protocol --js` to append."""
    import json

    def js(value: object) -> str:
        return json.dumps(value, ensure_ascii=False)

    def notice(entry: Notice) -> str:
        fields = {
            "title": entry.title,
            "text": entry.text,
            "actions": list(entry.actions),
            "command": entry.command,
            "clears": list(entry.clears),
            "tone": entry.tone,
        }
        return f"Object.freeze({js(fields)})"

    def look(entry: MoodLook) -> str:
        return f"Object.freeze({js(entry.__dict__)})"

    return [
        "// What the listener reads for each state (host/messages.py): what happened, what to",
        "// do, and the actions that do it. Pages show notices through notice(), not own words.",
        f"export const ACTION_LABELS = Object.freeze({js(ACTION_LABELS)});",
        "export const NOTICES = Object.freeze({",
        *(f"  {key}: {notice(entry)}," for key, entry in NOTICES.items()),
        "});",
        "",
        "// The mood's name, colour and drawn face, the same in the popup and the demo.",
        "export const MOOD_LOOKS = Object.freeze({",
        *(f"  {key}: {look(entry)}," for key, entry in MOOD_LOOKS.items()),
        "});",
        "",
        _JS_HELPERS,
    ]


_JS_HELPERS = """\
// A camera setting in words: 'the webcam' for 0, 'webcam 2', or the video file's name.
export function cameraName(camera, sampleVideo = null) {
  if (camera === null || camera === undefined) return 'the camera';
  if (camera === sampleVideo) return 'the sample video';
  if (typeof camera === 'number') return camera === 0 ? 'the webcam' : `webcam ${camera}`;
  return String(camera).split(/[\\\\/]/).pop();
}

const capital = (words) => words.charAt(0).toUpperCase() + words.slice(1);

// The notice for `key`, its {placeholders} filled from `camera` (and `sampleVideo`, whose
// name is 'the sample video'); null for a key the table does not have.
export function notice(key, { camera = null, sampleVideo = null } = {}) {
  const entry = NOTICES[key];
  if (!entry) return null;
  const values = { camera: String(camera ?? ''), camera_name: cameraName(camera, sampleVideo) };
  // A sentence that starts with a filled-in name starts with a capital; 'moodtune' stays lower.
  const fill = (words) => {
    const filled = words.replace(/\\{(\\w+)\\}/g, (_, name) => values[name] ?? '');
    return words.startsWith('{') ? capital(filled) : filled;
  };
  return { ...entry, key, title: fill(entry.title), text: fill(entry.text) };
}

// The notice for a host error: a camera that is a video file gets the video file's words.
export function errorNoticeKey(code, camera) {
  const file = code === 'camera_unavailable' && typeof camera === 'string';
  return file ? 'video_file_unavailable' : code;
}

// Whether what has happened since takes the notice down: `facts` says what holds now
// ({cameraOff, cameraRunning}); tracks and hello clear notices where they arrive.
export function noticeCleared(key, { cameraOff = false, cameraRunning = false } = {}) {
  const clears = NOTICES[key]?.clears ?? [];
  return (
    (cameraOff && clears.includes('camera_off')) ||
    (cameraRunning && clears.includes('camera_running'))
  );
}

// A mood as a small drawn face (SVG markup), so no emoji font is needed.
export function faceSvg(emotion) {
  const look = MOOD_LOOKS[emotion] ?? MOOD_LOOKS.none;
  const features = [
    `<circle cx="12" cy="12" r="11" fill="${look.colour}"/>`,
    '<circle cx="8.5" cy="10" r="1.3"/><circle cx="15.5" cy="10" r="1.3"/>',
    `<path d="${look.mouth}" fill="${look.open_mouth ? '#3b3f4a' : 'none'}"/>`,
    look.brows ? `<path d="${look.brows}" fill="none"/>` : '',
  ];
  return `<svg viewBox="0 0 24 24" fill="#3b3f4a" stroke="#3b3f4a" stroke-width="1.4"
    stroke-linecap="round" aria-hidden="true">${features.join('')}</svg>`;
}
"""
