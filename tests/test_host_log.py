"""The host's log: rotated, never truncated, and read back by `moodtune doctor`."""

from __future__ import annotations

import os
import subprocess
import sys

from host.commands.doctor import log_report
from host.logfile import BACKUPS, MAX_BYTES, last_error

ROTATE = r"""
import logging, os, sys
from pathlib import Path
from host.logfile import start_logging
path = Path(sys.argv[1])
start_logging(path=path)
for number in range(2500):
    logging.getLogger("soak").info("line %d %s", number, "x" * 1000)
os.write(2, b"raw stderr after rotation\n")
"""


def test_the_log_rotates_keeping_three_files_and_stderr_follows_it(tmp_path):
    path = tmp_path / "host.log"
    with path.open("ab") as log:  # as the launcher's 2>> hands it over
        subprocess.run(
            [sys.executable, "-c", ROTATE, str(path)], stderr=log, check=True, cwd=os.getcwd()
        )
    files = sorted(tmp_path.glob("host.log*"))
    assert [f.name for f in files] == ["host.log", "host.log.1", "host.log.2"][: BACKUPS + 1]
    assert all(f.stat().st_size <= MAX_BYTES + 4096 for f in files)
    newest = path.read_text()
    assert "raw stderr after rotation" in newest, "stderr moved to the new file"
    assert "line 2499" in newest


def test_the_last_error_is_found_with_its_exception(tmp_path):
    path = tmp_path / "host.log"
    path.write_text(
        "2026-12-01 10:00:00,000 moodtune ERROR host.session: first problem\n"
        "2026-12-01 10:00:01,000 moodtune INFO host.native: fine\n"
        "2026-12-01 10:00:02,000 moodtune ERROR host.session: the start command failed\n"
        "Traceback (most recent call last):\n"
        '  File "x.py", line 1, in <module>\n'
        "ValueError: no such camera\n"
        "2026-12-01 10:00:03,000 moodtune INFO host.native: fine again\n"
    )
    assert last_error(path) == (
        "2026-12-01 10:00:02,000 moodtune ERROR host.session: the start command failed"
        " (ValueError: no such camera)"
    )
    assert log_report(path) == [f"log   {path}", f"      last error: {last_error(path)}"]


def test_an_error_in_an_older_file_is_still_found(tmp_path):
    (tmp_path / "host.log").write_text("2026 moodtune INFO x: all fine\n")
    (tmp_path / "host.log.1").write_text("Fatal Python error: Segmentation fault\n")
    assert last_error(tmp_path / "host.log") == "Fatal Python error: Segmentation fault"


def test_doctor_says_where_the_log_will_be_before_there_is_one(tmp_path):
    assert "none yet" in log_report(tmp_path / "host.log")[0]
    (tmp_path / "host.log").write_text("all fine\n")
    assert log_report(tmp_path / "host.log")[1].strip() == "no errors in it"
