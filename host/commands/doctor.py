"""`moodtune doctor`: check the model, the camera and each browser's registration, with fixes."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from host.commands.install import (
    BROWSERS,
    EXTENSION_ID,
    HOST_NAME,
    LOG_NAME,
    System,
    browser_data_dir,
    browsers_named,
    is_registered,
    registration,
    registry_of,
)
from host.terminal import printable
from host.transports.native import saved_camera_choice
from host.vision.camera import CameraError, camera_source


@dataclass(frozen=True)
class Check:
    """One thing the doctor looked at: what, whether it is fine, and what to do if not."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None
    skipped: bool = False  # nothing to check here (a browser this computer does not have)

    @property
    def mark(self) -> str:
        """The report's first column."""
        return "skip" if self.skipped else "ok  " if self.ok else "FAIL"


def check_model(model_dir: Path | None = None) -> Check:
    """The emotion model files exist and load."""
    try:
        from host.vision.emotion import MODEL_DIR, EmotionModel, ModelError
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


def check_camera(source: int | str, chosen_by: str = "") -> Check:
    """The camera (a device index or a video file) opens and gives a frame, and in what mode: a
    webcam is asked for the host's REQUESTED_SIZE, as the host asks, and says what it gives.

    `chosen_by` says whose choice it is, for the report ("the extension's", "--camera").
    """
    import cv2

    from host.vision.camera import REQUESTED_SIZE, CameraError, capture_mode, open_capture

    name = "camera" + (f" ({chosen_by})" if chosen_by else "")
    if isinstance(source, str) and not Path(source).is_file():
        fix = "choose the file again in moodtune's Settings (or pass --camera)"
        return Check(name, False, f"no video file at {source}", fix)
    # OpenCV prints a screenful of backend warnings for a missing camera; the check says it.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    what = f"the video file {source}" if isinstance(source, str) else f"camera {source}"
    try:
        capture = open_capture(source)
    except CameraError:
        ok = False
    else:
        try:
            ok, mode = capture.read()[0], capture_mode(capture)
        finally:
            capture.release()
    if ok:
        asked_w, asked_h = REQUESTED_SIZE
        costs = ""
        if isinstance(source, int) and mode.width * mode.height > asked_w * asked_h:
            costs = f" (asked for {asked_w}x{asked_h}: larger frames cost the host more)"
        return Check(name, True, f"{what} gives frames, {mode}{costs}")
    return Check(
        name,
        False,
        f"{what} does not open or gives no frames",
        "plug the camera in and close other apps that use it (video calls); "
        "or choose another camera or a video file in moodtune's Settings",
    )


def check_registration(browser: str, system: System, extension_id: str = EXTENSION_ID) -> Check:
    """`browser` finds a manifest that points to a runnable launcher and allows the extension."""
    entry = registration(browser, system)
    fix = f"moodtune install --browser {browser}"
    name = f"{browser} registration"
    if entry.registry_key is not None:
        pointed = registry_of(system).read(entry.registry_key)
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
    from host.transports.framing import HEADER

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
    system: System,
    camera: int | str,
    browsers: Iterable[str],
    model_dir: Path | None = None,
    camera_chosen_by: str = "",
) -> list[Check]:
    """Every check, in the order a listener would fix things."""
    checks = [check_model(model_dir), check_camera(camera, camera_chosen_by)]
    registrations = check_browsers(system, browsers)
    checks += registrations
    if any(check.ok and not check.skipped for check in registrations):
        checks.append(check_host_starts(system.launcher))
    return checks


def check_browsers(system: System, browsers: Iterable[str]) -> list[Check]:
    """Each browser's registration, where it matters.

    A registration there is always checked. A browser this computer does not have needs none
    and is skipped; one it has but the listener did not set up is skipped too once another
    browser is set up (they use that one), and fails when none is.
    """
    browsers = list(browsers)
    registered = {browser for browser in browsers if is_registered(browser, system)}
    checks = []
    for browser in browsers:
        name = f"{browser} registration"
        if browser in registered:
            checks.append(check_registration(browser, system))
        elif not browser_present(browser, system):
            checks.append(Check(name, True, "not installed, skipped", skipped=True))
        elif registered:
            detail = f"not set up, skipped (moodtune install --browser {browser} to use it)"
            checks.append(Check(name, True, detail, skipped=True))
        else:
            checks.append(check_registration(browser, system))
    if all(check.skipped for check in checks) and not registered:
        names = ", ".join(browsers)
        fix = (
            "install one of them and open it once, then run moodtune install (or use moodtune demo)"
        )
        checks.append(Check("browser", False, f"none of {names} is set up for this user", fix))
    return checks


def browser_present(browser: str, system: System) -> bool:
    """Whether `browser` has run on this computer for this user: its data folder holds more
    than the manifest folder `moodtune install` may have made there."""
    folder = browser_data_dir(browser, system)
    try:
        return any(entry.name != "NativeMessagingHosts" for entry in folder.iterdir())
    except OSError:
        return False


def camera_to_check(given: str | None) -> tuple[int | str, str]:
    """The camera to try and whose choice it is: `--camera`, else the one the extension last
    started (the host keeps it), else camera 0. Raises CameraError for a bad `--camera`."""
    if given is not None:
        return camera_source(given), "--camera"
    saved = saved_camera_choice()
    if saved is not None:
        return saved, "the extension's choice"
    return 0, "the extension has not started one yet"


def log_report(path: Path | None = None) -> list[str]:
    """Where the host's log is and the last error in it: the lines the doctor ends with."""
    from host.logfile import last_error, log_path

    path = log_path() if path is None else path
    if not path.exists():
        return [f"log   {path} (none yet: the browser has not started the host)"]
    error = last_error(path)
    if error is None:
        return [f"log   {path}", "      no errors in it"]
    return [f"log   {path}", f"      last error: {printable(error)}"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `doctor` to the moodtune command."""
    browser_help = "which browser (default: all of them)"
    choices = [*BROWSERS, "all"]
    command = subparsers.add_parser("doctor", help="check the model, camera and registration")
    command.add_argument("--browser", choices=choices, default="all", help=browser_help)
    command.add_argument(
        "--camera",
        help="camera index or video file to try (default: the one the extension last used, else 0)",
    )
    command.set_defaults(run=_run_doctor)


def _run_doctor(args: argparse.Namespace) -> int:
    try:
        camera, chosen_by = camera_to_check(args.camera)
    except CameraError as exc:
        print(f"FAIL  camera: {exc}")
        return 1
    checks = run_doctor(
        System.current(), camera, browsers_named(args.browser), camera_chosen_by=chosen_by
    )
    for check in checks:
        print(f"{check.mark}  {check.name}: {check.detail}")
        if not check.ok and check.fix:
            print(f"      fix: {check.fix}")
    print("\n".join(log_report()))
    failed = sum(not check.ok for check in checks)
    print("all good" if not failed else f"{failed} problem{'s' if failed > 1 else ''} found")
    return 1 if failed else 0
