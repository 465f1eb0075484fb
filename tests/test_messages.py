"""The listener's messages: one for every state they can meet, written for them, the same on
both pages."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from host import messages, vocabulary
from host.messages import ACTION_LABELS, NOTICES, PLACEHOLDERS

REPO = Path(__file__).resolve().parent.parent
# Words of the code, not of the listener: a message with one of these was written for a programmer.
INTERNAL_WORDS = re.compile(
    r"\b(host|native|stdio|port|status|null|undefined|exception|errno|retrying|HTTP|"
    r"JSON|websocket|pipeline|cache[ds]?|error code)\b|_",
    re.IGNORECASE,
)


def test_every_error_code_state_and_situation_has_a_notice():
    qualities = [q for q in vocabulary.FRAME_QUALITIES if q != "ok"]
    keys = (*vocabulary.ERROR_CODES, *vocabulary.STATUS_STATES, *qualities, *messages.SITUATIONS)
    assert [key for key in keys if key not in NOTICES] == []


@pytest.mark.parametrize("key", NOTICES)
def test_a_notice_says_what_happened_and_what_to_do_in_the_listeners_words(key):
    notice = NOTICES[key]
    assert notice.title and not notice.title.endswith("."), "a title is a heading"
    sentences = [s for s in re.split(r"(?<=[.:;])\s+", notice.text) if s]
    assert sentences and notice.text.endswith("."), "what to do is whole sentences"
    for words in (notice.title, notice.text):
        assert not INTERNAL_WORDS.search(words.replace("{camera_name}", "").replace("{camera}", ""))
        assert set(re.findall(r"\{(\w+)\}", words)) <= set(PLACEHOLDERS)
    assert all(action in ACTION_LABELS for action in notice.actions)


def test_a_notice_that_asks_for_a_command_shows_it():
    for key, notice in NOTICES.items():
        if notice.command:
            assert notice.command.startswith(("moodtune", "pip ")), key


def test_camera_notices_go_when_the_camera_is_switched_off_or_runs():
    for key in ("camera_unavailable", "video_file_unavailable", "error", "video_ended"):
        assert {"camera_off", "camera_running"} <= set(NOTICES[key].clears), key
    assert "camera_off" in NOTICES["music_unavailable"].clears


def node_evaluate(script: str) -> object:
    """Run `script` as an ES module beside extension/protocol.js; what it prints, as JSON."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("needs Node.js to run the generated module")
    result = subprocess.run(
        [node, "--input-type=module", "-e", script],
        cwd=REPO / "extension",
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_generated_notice_fills_in_the_camera_and_picks_the_video_file_words():
    shown = node_evaluate(
        "import { notice, errorNoticeKey } from './protocol.js';"
        "const file = '/home/me/missing.mp4';"
        "console.log(JSON.stringify({"
        "  device: notice(errorNoticeKey('camera_unavailable', 0), { camera: 0 }),"
        "  second: notice(errorNoticeKey('camera_unavailable', 2), { camera: 2 }),"
        "  file: notice(errorNoticeKey('camera_unavailable', file), { camera: file }),"
        "  unknown: notice('no_such_state'),"
        "}));"
    )
    assert shown["device"]["title"] == "The webcam is not available"
    assert shown["second"]["title"] == "Webcam 2 is not available"
    assert shown["file"]["title"] == "The video file cannot be played"
    assert "/home/me/missing.mp4" in shown["file"]["text"]
    assert "{" not in shown["file"]["text"]
    assert shown["unknown"] is None


def test_the_generated_module_says_when_a_notice_stops_being_true():
    cleared = node_evaluate(
        "import { noticeCleared } from './protocol.js';"
        "console.log(JSON.stringify(["
        "  noticeCleared('camera_unavailable', { cameraOff: true }),"
        "  noticeCleared('camera_unavailable', { cameraRunning: true }),"
        "  noticeCleared('camera_unavailable', {}),"
        "  noticeCleared('music_unavailable', { cameraOff: true }),"
        "  noticeCleared('model_missing', { cameraOff: true }),"
        "]));"
    )
    assert cleared == [True, True, False, True, False]


def test_the_table_has_no_notice_for_a_state_nobody_meets():
    keys = {
        *vocabulary.ERROR_CODES,
        *vocabulary.STATUS_STATES,
        *vocabulary.FRAME_QUALITIES,
        *messages.SITUATIONS,
    }
    assert set(NOTICES) - keys == set()
