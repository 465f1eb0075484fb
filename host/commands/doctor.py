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
    browsers_named,
    is_registered,
    registration,
    registry_of,
)
from host.vision.camera import CameraError, camera_source


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


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `doctor` to the moodtune command."""
    browser_help = "which browser (default: all of them)"
    choices = [*BROWSERS, "all"]
    command = subparsers.add_parser("doctor", help="check the model, camera and registration")
    command.add_argument("--browser", choices=choices, default="all", help=browser_help)
    command.add_argument(
        "--camera", default="0", help="camera index or video file to try (default: 0)"
    )
    command.set_defaults(run=_run_doctor)


def _run_doctor(args: argparse.Namespace) -> int:
    try:
        camera = camera_source(args.camera)
    except CameraError as exc:
        print(f"FAIL  camera: {exc}")
        return 1
    checks = run_doctor(System.current(), camera, browsers_named(args.browser))
    for check in checks:
        print(f"{'ok  ' if check.ok else 'FAIL'}  {check.name}: {check.detail}")
        if not check.ok and check.fix:
            print(f"      fix: {check.fix}")
    failed = sum(not check.ok for check in checks)
    print("all good" if not failed else f"{failed} problem{'s' if failed > 1 else ''} found")
    return 1 if failed else 0
