"""The host's log: a rotating file in moodtune's data folder, kept across restarts.

Chrome shows nobody the host's stderr, and the extension restarts a host that died a second
later, so a crash's traceback has to outlive the process that printed it. The launcher appends
stderr to the log (never truncates it), and the host writes its records there with timestamps,
rotating at `MAX_BYTES` and keeping `BACKUPS` older files. When the log rotates, the process's
stderr (and stdout, which the native transport points at stderr) follow it to the new file, so
what C libraries and the interpreter itself print lands beside the records.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from host.paths import data_dir

LOG_NAME = "host.log"
#: The folder, inside the data folder, holding the launcher and the log.
HOST_DIR_NAME = "native-host"
MAX_BYTES = 1024 * 1024
BACKUPS = 2  # three files in all: host.log, host.log.1, host.log.2
FORMAT = "%(asctime)s moodtune %(levelname)s %(name)s: %(message)s"
_ERROR_MARKS = (" ERROR ", " CRITICAL ", "Fatal Python error", "Traceback (most recent call last)")


def log_path() -> Path:
    """Where the host's log is: `native-host/host.log` in the data folder."""
    return data_dir() / HOST_DIR_NAME / LOG_NAME


class _RotatingLog(RotatingFileHandler):
    """A rotating log that takes the process's stderr and stdout along when it rotates."""

    def doRollover(self) -> None:
        followed = [fd for fd in (1, 2) if _same_file(fd, self.baseFilename)]
        try:
            super().doRollover()
        except OSError as exc:
            # Windows cannot rename a file the launcher holds open: keep appending instead.
            self.maxBytes = 0
            self.stream = self._open()
            self.stream.write(f"moodtune WARNING: the log cannot rotate ({exc}); appending\n")
            return
        if self.stream is not None:
            for fd in followed:
                os.dup2(self.stream.fileno(), fd)


def start_logging(level: int = logging.INFO, path: Path | None = None) -> Path | None:
    """Send the host's records to the rotating log (and to stderr unless stderr is the log).

    Returns the log's path, or None when it cannot be opened (records then go to stderr only,
    with a warning saying why).
    """
    formatter = logging.Formatter(FORMAT)
    root = logging.getLogger()
    root.setLevel(level)
    problem = None
    try:
        path = log_path() if path is None else path
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler | None = _RotatingLog(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    except OSError as exc:
        handler, problem = None, exc
    if handler is not None:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    if handler is None or path is None or not _same_file(2, path):
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(formatter)
        root.addHandler(console)
    # A crash in C (or a fatal interpreter error) still leaves its stack in the log.
    faulthandler.enable(file=sys.stderr)
    if problem is not None:
        logging.getLogger(__name__).warning("cannot write the host log: %s", problem)
        return None
    return path


def last_error(path: Path) -> str | None:
    """The last error line in the log or its older files, newest file first; None if none."""
    for candidate in [path, *(path.with_name(f"{path.name}.{n}") for n in range(1, BACKUPS + 1))]:
        try:
            lines = candidate.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for number in range(len(lines) - 1, -1, -1):
            line = lines[number]
            if line.startswith("Traceback (most recent call last)"):
                # The exception itself is the traceback's last unindented line.
                after = [text for text in lines[number + 1 :] if text and not text[0].isspace()]
                raised = after[0] if after else line
                before = lines[number - 1] if number else ""
                return f"{before} ({raised})" if " ERROR " in before else raised
            if any(mark in line for mark in _ERROR_MARKS):
                return line
    return None


def _same_file(fd: int, path: str | os.PathLike[str]) -> bool:
    try:
        opened, named = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (opened.st_dev, opened.st_ino) == (named.st_dev, named.st_ino)
