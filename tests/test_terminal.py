"""Track data printed on a terminal cannot drive the terminal."""

from __future__ import annotations

import io

from host.commands.demo import TerminalReport
from host.commands.recommend import _describe
from host.music.models import Track
from host.protocol import TrackInfo, Tracks
from host.terminal import printable

HOSTILE = "Song\x1b]0;owned\x07\x1b[2J\x9b31m\u202eevil\u2066"


def test_controls_and_bidi_marks_are_dropped_and_every_script_kept():
    assert printable(HOSTILE) == "Song]0;owned[2J31mevil"
    kept = "दर्द भरे गाने · 悲しい · 👩‍👩‍👧 · tab\there"
    assert printable(kept) == kept


def test_recommend_lines_carry_no_escape_sequences():
    track = Track(
        video_id="abcdefghijk", title=HOSTILE, artists=("A\x07rtist",), album=None,
        duration_s=200, thumbnail=None, reason="because\x1b[8m",
    )  # fmt: skip
    line = _describe(1, track)
    assert not any(ch in line for ch in "\x1b\x07\x9b\u202e")
    assert "Song]0;owned" in line and "Artist" in line


def test_the_demo_terminal_lines_carry_no_escape_sequences():
    out = io.StringIO()
    report = TerminalReport(out, sample_available=False)
    info = TrackInfo(video_id="abcdefghijk", title=HOSTILE, artists=("x\x1b[1m",), reason="r")
    report.show(Tracks(emotion="sad", mode="match", language="en", reason="mood", tracks=(info,)))
    assert "Song]0;owned" in out.getvalue()
    assert not any(ch in out.getvalue() for ch in "\x1b\x07\x9b\u202e")
