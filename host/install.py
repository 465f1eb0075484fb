"""`moodtune install`, `uninstall` and `doctor`: register the host with the browsers, and check it.

Chrome, Chromium, Brave and Edge start a native-messaging host from a small JSON manifest that
names the program to run and the extensions allowed to run it. On Linux and macOS the browser
looks for that manifest in a per-user folder of its own; on Windows a registry key under
HKEY_CURRENT_USER points to it. Everything here is per user: no administrator rights needed.

The program the manifest names is a launcher script in moodtune's data folder that runs
`python -m host` with the Python that ran the installer, and keeps the host's log beside it.
`install/` holds the same files as templates, with a README, for setting them up by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

HOST_NAME = "com.moodtune.host"
# The ID Chrome derives from the `key` in extension/manifest.json (tests check they agree).
EXTENSION_ID = "kmjpddcboijkpgjegdplbclkadhankic"
BROWSERS = ("chrome", "chromium", "brave", "edge")
DESCRIPTION = "moodtune: plays music that follows your mood"
LOG_NAME = "host.log"
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
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key) as handle:
                return winreg.QueryValueEx(handle, "")[0]
        except FileNotFoundError:
            return None

    def write(self, key: str, value: str) -> None:
        import winreg

        with winreg.CreateKey(winreg.HKEY_CURRENT_USER, key) as handle:
            winreg.SetValueEx(handle, "", 0, winreg.REG_SZ, value)

    def delete(self, key: str) -> None:
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
            host_dir=data_dir() / "native-host",
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
    if system.platform == "darwin":
        base = system.home / "Library" / "Application Support"
        profile = _PROFILE_DIRS["darwin"][browser]
    else:
        # Chrome honours XDG_CONFIG_HOME on Linux, and ignores it unless absolute.
        xdg = system.environ.get("XDG_CONFIG_HOME", "")
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else system.home / ".config"
        profile = _PROFILE_DIRS["linux"][browser]
    return Registration(browser, base / profile / "NativeMessagingHosts" / f"{HOST_NAME}.json")


def is_registered(browser: str, system: System) -> bool:
    """Whether anything of moodtune's registration with `browser` is there, broken or not."""
    entry = registration(browser, system)
    if entry.registry_key is not None:
        return _registry(system).read(entry.registry_key) is not None
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
    """A script that runs the host with `python`, its stderr going to `log`.

    The browser passes the extension's origin (and on Windows a window handle) as arguments;
    they are handed on to the host, which recognises that form.
    """
    if windows:
        # In a batch file % starts a variable; doubling it keeps a literal one.
        def quote(text: str) -> str:
            return '"' + str(text).replace("%", "%%") + '"'

        lines = ["@echo off"]
        lines += [f'set "{name}={value}"' for name, value in environment.items()]
        lines.append(f"{quote(python)} -m host %* 2>{quote(log)}")
        return "\r\n".join(lines) + "\r\n"
    lines = ["#!/bin/sh"]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in environment.items()]
    lines.append(f'exec {shlex.quote(python)} -m host "$@" 2>{shlex.quote(str(log))}')
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
            _registry(system).write(entry.registry_key, str(entry.manifest))
        done.append(entry)
    return done


def uninstall(browsers: Iterable[str], system: System) -> list[Registration]:
    """Remove the host's registration from `browsers`; the ones that had one."""
    browsers = list(browsers)
    removed = [registration(b, system) for b in browsers if is_registered(b, system)]
    for entry in removed:
        if entry.registry_key is not None:
            _registry(system).delete(entry.registry_key)
        else:
            entry.manifest.unlink()
    if not any(is_registered(browser, system) for browser in BROWSERS):
        # Nothing points to the launcher any more (on Windows, nor to the shared manifest).
        for leftover in (system.launcher, system.host_dir / f"{HOST_NAME}.json"):
            leftover.unlink(missing_ok=True)
    return removed


def _registry(system: System) -> Registry:
    if system.registry is None:
        raise RuntimeError("this system has no registry to write to")
    return system.registry


# The doctor


@dataclass(frozen=True)
class Check:
    """One thing the doctor looked at: what, whether it is fine, and what to do if not."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None


def check_model(model_dir: Path | None = None) -> Check:
    """The emotion model files exist and load."""
    try:
        from host.emotion import MODEL_DIR, EmotionModel, ModelError
    except ImportError as exc:
        return Check("model", False, f"the host cannot be imported: {exc}", _REINSTALL)
    model_dir = MODEL_DIR if model_dir is None else model_dir
    try:
        model = EmotionModel.load(model_dir)
    except ModelError as exc:
        return Check(
            "model",
            False,
            str(exc),
            f"restore model/emotion.tflite and model/model.json ({_REINSTALL})",
        )
    except ImportError as exc:
        return Check("model", False, f"LiteRT is missing: {exc}", "pip install ai-edge-litert")
    contract = model.contract
    accuracy = f", {contract.accuracy:.1%} on val" if contract.accuracy is not None else ""
    return Check("model", True, f"{contract.name} loads from {model_dir}{accuracy}")


def check_camera(source: int | str) -> Check:
    """The camera (a device index or a video file) opens and gives a frame."""
    import cv2

    if isinstance(source, str) and not Path(source).is_file():
        return Check("camera", False, f"no video file at {source}", "check the path in the options")
    # OpenCV prints a screenful of backend warnings for a missing camera; the check says it.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    capture = cv2.VideoCapture(source)
    try:
        ok = capture.isOpened() and capture.read()[0]
    finally:
        capture.release()
    if ok:
        return Check("camera", True, f"camera {source} gives frames")
    return Check(
        "camera",
        False,
        f"camera {source} does not open or gives no frames",
        "plug the camera in and close other apps that use it (video calls); "
        "or pick another camera in moodtune's options",
    )


def check_registration(browser: str, system: System, extension_id: str = EXTENSION_ID) -> Check:
    """`browser` finds a manifest that points to a runnable launcher and allows the extension."""
    entry = registration(browser, system)
    fix = f"moodtune install --browser {browser}"
    name = f"{browser} registration"
    if entry.registry_key is not None:
        pointed = _registry(system).read(entry.registry_key)
        if pointed is None:
            return Check(name, False, rf"no registry key HKCU\{entry.registry_key}", fix)
        if Path(pointed) != entry.manifest:
            return Check(name, False, f"the registry key points to {pointed}", fix)
    try:
        manifest = json.loads(entry.manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Check(name, False, f"no manifest at {entry.manifest}", fix)
    except ValueError as exc:
        return Check(name, False, f"{entry.manifest} is not valid JSON: {exc}", fix)
    launcher = Path(manifest.get("path", ""))
    origin = f"chrome-extension://{extension_id}/"
    if manifest.get("name") != HOST_NAME:
        return Check(name, False, f"{entry.manifest} names host {manifest.get('name')!r}", fix)
    if not launcher.is_file():
        return Check(name, False, f"the manifest's launcher {launcher} does not exist", fix)
    if not system.windows and not os.access(launcher, os.X_OK):
        return Check(name, False, f"the launcher {launcher} is not executable", fix)
    if origin not in manifest.get("allowed_origins", []):
        return Check(name, False, f"{entry.manifest} does not allow extension {extension_id}", fix)
    return Check(name, True, f"{entry.manifest} -> {launcher}")


def check_host_starts(launcher: Path, extension_id: str = EXTENSION_ID) -> Check:
    """Start the host through its launcher, as the browser would, and expect its hello."""
    from host.framing import HEADER

    log = launcher.parent / LOG_NAME
    try:
        result = subprocess.run(
            [str(launcher), f"chrome-extension://{extension_id}/"],
            input=b"",  # end of input right away: the host greets, then exits
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("host start", False, f"the launcher did not run: {exc}", _REINSTALL)
    output = result.stdout
    if len(output) >= HEADER.size:
        (length,) = HEADER.unpack_from(output)
        try:
            hello = json.loads(output[HEADER.size : HEADER.size + length])
        except ValueError:
            hello = {}
        if hello.get("type") == "hello":
            return Check("host start", True, f"moodtune {hello.get('version')} says hello")
    return Check(
        "host start",
        False,
        f"the host did not say hello (exit status {result.returncode})",
        f"see {log} for the host's own words; {_REINSTALL}",
    )


_REINSTALL = "reinstall from the moodtune folder with `pip install -e . && moodtune install`"


def run_doctor(
    system: System, camera: int | str, browsers: Iterable[str], model_dir: Path | None = None
) -> list[Check]:
    """Every check, in the order a listener would fix things.

    Browsers the listener does not use need no registration: of `browsers`, only those with
    some registration are checked, unless none has one.
    """
    checks = [check_model(model_dir), check_camera(camera)]
    browsers = list(browsers)
    registered = [browser for browser in browsers if is_registered(browser, system)]
    registrations = [check_registration(b, system) for b in registered or browsers]
    checks += registrations
    if any(check.ok for check in registrations):
        checks.append(check_host_starts(system.launcher))
    return checks


# The commands


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `install`, `uninstall` and `doctor` to the moodtune command."""
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

    command = subparsers.add_parser("doctor", help="check the model, camera and registration")
    command.add_argument("--browser", choices=choices, default="all", help=browser_help)
    command.add_argument(
        "--camera", default="0", help="camera index or video file to try (default: 0)"
    )
    command.set_defaults(run=_run_doctor)


def _browsers(choice: str) -> tuple[str, ...]:
    return BROWSERS if choice == "all" else (choice,)


def _run_install(args: argparse.Namespace) -> int:
    system = System.current()
    extension_ids = [EXTENSION_ID, *(args.extension_id or [])]
    for entry in install(_browsers(args.browser), system, extension_ids):
        where = rf"HKCU\{entry.registry_key}" if entry.registry_key else entry.manifest
        print(f"registered for {entry.browser}: {where}")
    print(f"launcher: {system.launcher} (runs {sys.executable})")
    extension_dir = Path(__file__).resolve().parent.parent / "extension"
    if extension_dir.is_dir():
        print(
            f"\nNow load the extension: open chrome://extensions (brave://, edge://), turn on "
            f"Developer mode, choose 'Load unpacked' and pick {extension_dir}.\n"
            f"Its ID must read {EXTENSION_ID}."
        )
    return 0


def _run_uninstall(args: argparse.Namespace) -> int:
    removed = uninstall(_browsers(args.browser), System.current())
    for entry in removed:
        print(f"removed from {entry.browser}")
    if not removed:
        print("moodtune was not registered with those browsers")
    return 0


def _run_doctor(args: argparse.Namespace) -> int:
    camera: int | str = int(args.camera) if args.camera.isdigit() else args.camera
    checks = run_doctor(System.current(), camera, _browsers(args.browser))
    for check in checks:
        print(f"{'ok  ' if check.ok else 'FAIL'}  {check.name}: {check.detail}")
        if not check.ok and check.fix:
            print(f"      fix: {check.fix}")
    failed = sum(not check.ok for check in checks)
    print("all good" if not failed else f"{failed} problem{'s' if failed > 1 else ''} found")
    return 1 if failed else 0
