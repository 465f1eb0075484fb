"""Where moodtune keeps its files on each platform.

`MOODTUNE_DATA_DIR` overrides the platform default; tests and portable installs use it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "moodtune"
# The `host` package folder: its data/ and web/ files, and (from a wheel) its model/.
PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir() -> Path:
    """Return moodtune's per-user data directory (created if missing).

    Linux and other Unixes: `$XDG_DATA_HOME/moodtune`, else `~/.local/share/moodtune`.
    macOS: `~/Library/Application Support/moodtune`. Windows: `%LOCALAPPDATA%\\moodtune`.
    """
    override = os.environ.get("MOODTUNE_DATA_DIR")
    directory = Path(override).expanduser() if override else _default_data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _default_data_dir() -> Path:
    home = Path.home()
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        return (Path(local) if local else home / "AppData" / "Local") / APP_NAME
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / APP_NAME
    xdg = os.environ.get("XDG_DATA_HOME")
    # The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / APP_NAME
    return home / ".local" / "share" / APP_NAME
