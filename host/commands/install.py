"""`moodtune install` and `uninstall`: register the host with the browsers (`doctor` checks it).

Chrome, Chromium, Brave and Edge start a native-messaging host from a small JSON manifest that
names the program to run and the extensions allowed to run it. On Linux and macOS the browser
looks for that manifest in a per-user folder of its own; on Windows a registry key under
HKEY_CURRENT_USER points to it. Everything here is per user: no administrator rights needed.

The program the manifest names is a launcher script in moodtune's data folder that runs
`python -m host` with the Python that ran the installer, appending its stderr to the host's log
beside it (see host/logfile.py: the host rotates that log itself; it is never truncated).
`install/` holds the same files as templates, with a README, for setting them up by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from host.logfile import HOST_DIR_NAME, LOG_NAME
from host.paths import PACKAGE_DIR
from host.protocol import HOST_NAME

# The ID Chrome derives from the `key` in extension/manifest.json (tests check they agree).
EXTENSION_ID = "kmjpddcboijkpgjegdplbclkadhankic"
BROWSERS = ("chrome", "chromium", "brave", "edge")
DESCRIPTION = "moodtune: plays music that follows your mood"
# Set at install time, these reach the host that the browser starts later.
CARRIED_ENVIRONMENT = ("MOODTUNE_DATA_DIR",)

# Where each browser keeps its per-user data, relative to the platform's base folder.
_PROFILE_DIRS = {
    "linux": {  # under $XDG_CONFIG_HOME, else ~/.config
        "chrome": "google-chrome",
        "chromium": "chromium",
        "brave": "BraveSoftware/Brave-Browser",
        "edge": "microsoft-edge",
    },
    "darwin": {  # under ~/Library/Application Support
        "chrome": "Google/Chrome",
        "chromium": "Chromium",
        "brave": "BraveSoftware/Brave-Browser",
        "edge": "Microsoft Edge",
    },
}
_WINDOWS_PROFILE_DIRS = {  # under %LOCALAPPDATA%
    "chrome": "Google/Chrome/User Data",
    "chromium": "Chromium/User Data",
    "brave": "BraveSoftware/Brave-Browser/User Data",
    "edge": "Microsoft/Edge/User Data",
}
_REGISTRY_KEYS = {  # under HKEY_CURRENT_USER
    "chrome": r"Software\Google\Chrome\NativeMessagingHosts",
    "chromium": r"Software\Chromium\NativeMessagingHosts",
    "brave": r"Software\BraveSoftware\Brave-Browser\NativeMessagingHosts",
    "edge": r"Software\Microsoft\Edge\NativeMessagingHosts",
}


class Registry(Protocol):
    """The default values of keys under HKEY_CURRENT_USER (an injected fake in tests)."""

    def read(self, key: str) -> str | None: ...

    def write(self, key: str, value: str) -> None: ...

    def delete(self, key: str) -> None: ...


class WindowsRegistry:
    """HKEY_CURRENT_USER through winreg."""

    def read(self, key: str) -> str | None:
        if sys.platform != "win32":
            raise OSError("the Windows registry exists only on Windows")
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key) as handle:
                return winreg.QueryValueEx(handle, "")[0]
        except FileNotFoundError:
            return None

    def write(self, key: str, value: str) -> None:
        if sys.platform != "win32":
            raise OSError("the Windows registry exists only on Windows")
        import winreg

        with winreg.CreateKey(winreg.HKEY_CURRENT_USER, key) as handle:
            winreg.SetValueEx(handle, "", 0, winreg.REG_SZ, value)

    def delete(self, key: str) -> None:
        if sys.platform != "win32":
            raise OSError("the Windows registry exists only on Windows")
        import winreg

        with contextlib.suppress(FileNotFoundError):
            winreg.DeleteKey(winreg.HKEY_CURRENT_USER, key)


@dataclass(frozen=True)
class System:
    """The facts about this computer that decide where things go; tests make their own."""

    platform: str  # sys.platform: "linux", "darwin" or "win32"
    home: Path
    environ: Mapping[str, str]
    host_dir: Path  # where the launcher (and on Windows the manifest) live
    registry: Registry | None = None  # Windows only

    @classmethod
    def current(cls) -> System:
        from host.paths import data_dir

        return cls(
            platform=sys.platform,
            home=Path.home(),
            environ=os.environ,
            host_dir=data_dir() / HOST_DIR_NAME,
            registry=WindowsRegistry() if sys.platform == "win32" else None,
        )

    @property
    def windows(self) -> bool:
        return self.platform == "win32"

    @property
    def launcher(self) -> Path:
        return self.host_dir / ("moodtune-host.bat" if self.windows else "moodtune-host")


@dataclass(frozen=True)
class Registration:
    """Where one browser finds the host: a manifest file and, on Windows, the key naming it."""

    browser: str
    manifest: Path
    registry_key: str | None = None


def registration(browser: str, system: System) -> Registration:
    """Where `browser` looks for the moodtune host on `system`."""
    if system.windows:
        # One manifest serves every browser; each has its own key pointing to it.
        return Registration(
            browser,
            system.host_dir / f"{HOST_NAME}.json",
            rf"{_REGISTRY_KEYS[browser]}\{HOST_NAME}",
        )
    manifest = browser_data_dir(browser, system) / "NativeMessagingHosts" / f"{HOST_NAME}.json"
    return Registration(browser, manifest)


def browser_data_dir(browser: str, system: System) -> Path:
    """The folder where `browser` keeps its per-user data: there once the browser has run."""
    if system.windows:
        local = system.environ.get("LOCALAPPDATA")
        base = Path(local) if local else system.home / "AppData" / "Local"
        return base / _WINDOWS_PROFILE_DIRS[browser]
    if system.platform == "darwin":
        return system.home / "Library" / "Application Support" / _PROFILE_DIRS["darwin"][browser]
    # Chrome honours XDG_CONFIG_HOME on Linux, and ignores it unless absolute.
    xdg = system.environ.get("XDG_CONFIG_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else system.home / ".config"
    return base / _PROFILE_DIRS["linux"][browser]


def is_registered(browser: str, system: System) -> bool:
    """Whether anything of moodtune's registration with `browser` is there, broken or not."""
    entry = registration(browser, system)
    if entry.registry_key is not None:
        return registry_of(system).read(entry.registry_key) is not None
    return entry.manifest.exists()


# The files


def render_manifest(launcher: Path | str, extension_ids: Iterable[str]) -> str:
    """The native-messaging host manifest that lets `extension_ids` start `launcher`."""
    manifest = {
        "name": HOST_NAME,
        "description": DESCRIPTION,
        "path": str(launcher),
        "type": "stdio",
        "allowed_origins": [f"chrome-extension://{eid}/" for eid in extension_ids],
    }
    return json.dumps(manifest, indent=2) + "\n"


def render_launcher(
    python: str, log: Path | str, environment: Mapping[str, str], windows: bool
) -> str:
    """A script that runs the host with `python`, its stderr appended to `log`.

    The browser passes the extension's origin (and on Windows a window handle) as arguments;
    they are handed on to the host, which recognises that form.
    """
    if windows:
        # In a batch file % starts a variable; doubling it keeps a literal one.
        def quote(text: Path | str) -> str:
            return '"' + str(text).replace("%", "%%") + '"'

        lines = ["@echo off"]
        lines += [f'set "{name}={value}"' for name, value in environment.items()]
        lines.append(f"{quote(python)} -m host %* 2>>{quote(log)}")
        return "\r\n".join(lines) + "\r\n"
    lines = ["#!/bin/sh"]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in environment.items()]
    lines.append(f'exec {shlex.quote(python)} -m host "$@" 2>>{shlex.quote(str(log))}')
    return "\n".join(lines) + "\n"


def write_launcher(
    system: System, python: str = sys.executable, environment: Mapping[str, str] | None = None
) -> Path:
    """Write the launcher into `system.host_dir` (executable); its path.

    Without an explicit `environment`, the variables in CARRIED_ENVIRONMENT that are set now
    are written into it, so the host the browser starts uses the same data folder.
    """
    if environment is None:
        environment = {k: system.environ[k] for k in CARRIED_ENVIRONMENT if k in system.environ}
    system.host_dir.mkdir(parents=True, exist_ok=True)
    launcher = system.launcher
    launcher.write_text(
        render_launcher(python, system.host_dir / LOG_NAME, environment, system.windows),
        encoding="utf-8",
        newline="",
    )
    launcher.chmod(0o755)
    return launcher


def write_manifest(path: Path, launcher: Path, extension_ids: Iterable[str]) -> Path:
    """Write a host manifest to `path`, creating its folder; `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_manifest(launcher, extension_ids), encoding="utf-8")
    return path


def install(
    browsers: Iterable[str],
    system: System,
    extension_ids: Iterable[str] = (EXTENSION_ID,),
    python: str = sys.executable,
) -> list[Registration]:
    """Register the host with `browsers`; what was written."""
    launcher = write_launcher(system, python)
    extension_ids = list(extension_ids)
    done = []
    for browser in browsers:
        entry = registration(browser, system)
        write_manifest(entry.manifest, launcher, extension_ids)
        if entry.registry_key is not None:
            registry_of(system).write(entry.registry_key, str(entry.manifest))
        done.append(entry)
    return done


def uninstall(browsers: Iterable[str], system: System) -> list[Registration]:
    """Remove the host's registration from `browsers`; the ones that had one."""
    browsers = list(browsers)
    removed = [registration(b, system) for b in browsers if is_registered(b, system)]
    for entry in removed:
        if entry.registry_key is not None:
            registry_of(system).delete(entry.registry_key)
        else:
            entry.manifest.unlink()
    if not any(is_registered(browser, system) for browser in BROWSERS):
        # Nothing points to the launcher any more (on Windows, nor to the shared manifest).
        for leftover in (system.launcher, system.host_dir / f"{HOST_NAME}.json"):
            leftover.unlink(missing_ok=True)
    return removed


def registry_of(system: System) -> Registry:
    if system.registry is None:
        raise RuntimeError("this system has no registry to write to")
    return system.registry


# The commands


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `install` and `uninstall` to the moodtune command."""
    browser_help = "which browser (default: all of them)"
    choices = [*BROWSERS, "all"]

    command = subparsers.add_parser("install", help="register the host with your browsers")
    command.add_argument("--browser", choices=choices, default="all", help=browser_help)
    command.add_argument(
        "--extension-id",
        action="append",
        metavar="ID",
        help=f"allow this extension ID too (default: {EXTENSION_ID}); repeatable",
    )
    command.set_defaults(run=_run_install)

    command = subparsers.add_parser("uninstall", help="remove the host's registration")
    command.add_argument("--browser", choices=choices, default="all", help=browser_help)
    command.set_defaults(run=_run_uninstall)


def browsers_named(choice: str) -> tuple[str, ...]:
    return BROWSERS if choice == "all" else (choice,)


def _run_install(args: argparse.Namespace) -> int:
    system = System.current()
    extension_ids = [EXTENSION_ID, *(args.extension_id or [])]
    for entry in install(browsers_named(args.browser), system, extension_ids):
        where = rf"HKCU\{entry.registry_key}" if entry.registry_key else entry.manifest
        print(f"registered for {entry.browser}: {where}")
    print(f"launcher: {system.launcher} (runs {sys.executable})")
    extension_dir = PACKAGE_DIR.parent / "extension"
    if extension_dir.is_dir():
        print(
            f"\nNow load the extension: open chrome://extensions (brave://, edge://), turn on "
            f"Developer mode, choose 'Load unpacked' and pick {extension_dir}.\n"
            f"Its ID must read {EXTENSION_ID}."
        )
    return 0


def _run_uninstall(args: argparse.Namespace) -> int:
    removed = uninstall(browsers_named(args.browser), System.current())
    for entry in removed:
        print(f"removed from {entry.browser}")
    if not removed:
        print("moodtune was not registered with those browsers")
    return 0
