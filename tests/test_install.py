"""`moodtune install`, `uninstall` and `doctor` against a temporary home for each platform."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from host.commands import doctor, install
from host.commands.install import EXTENSION_ID, HOST_NAME, System

REPO = Path(__file__).resolve().parent.parent
ORIGIN = f"chrome-extension://{EXTENSION_ID}/"


class FakeRegistry:
    """HKEY_CURRENT_USER as a dict of key path -> default value."""

    def __init__(self) -> None:
        self.keys: dict[str, str] = {}

    def read(self, key: str) -> str | None:
        return self.keys.get(key)

    def write(self, key: str, value: str) -> None:
        self.keys[key] = value

    def delete(self, key: str) -> None:
        self.keys.pop(key, None)


def make_system(tmp_path: Path, platform: str, **environ: str) -> System:
    return System(
        platform=platform,
        home=tmp_path / "home",
        environ=environ,
        host_dir=tmp_path / "data" / "native-host",
        registry=FakeRegistry() if platform == "win32" else None,
    )


def read_manifest(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# Where each browser looks


@pytest.mark.parametrize(
    ("browser", "folder"),
    [
        ("chrome", ".config/google-chrome"),
        ("chromium", ".config/chromium"),
        ("brave", ".config/BraveSoftware/Brave-Browser"),
        ("edge", ".config/microsoft-edge"),
    ],
)
def test_linux_manifests_go_in_each_browsers_config_folder(tmp_path, browser, folder):
    system = make_system(tmp_path, "linux")
    [entry] = install.install([browser], system)
    expected = system.home / folder / "NativeMessagingHosts" / f"{HOST_NAME}.json"
    assert entry.manifest == expected
    assert read_manifest(expected)["path"] == str(system.launcher)


def test_linux_follows_an_absolute_xdg_config_home_and_ignores_a_relative_one(tmp_path):
    config = tmp_path / "xdg"
    absolute = make_system(tmp_path, "linux", XDG_CONFIG_HOME=str(config))
    relative = make_system(tmp_path, "linux", XDG_CONFIG_HOME="relative/config")
    assert install.registration("chromium", absolute).manifest.parent == (
        config / "chromium" / "NativeMessagingHosts"
    )
    assert install.registration("chromium", relative).manifest.parent == (
        relative.home / ".config" / "chromium" / "NativeMessagingHosts"
    )


@pytest.mark.parametrize(
    ("browser", "folder"),
    [
        ("chrome", "Google/Chrome"),
        ("chromium", "Chromium"),
        ("brave", "BraveSoftware/Brave-Browser"),
        ("edge", "Microsoft Edge"),
    ],
)
def test_macos_manifests_go_in_application_support(tmp_path, browser, folder):
    system = make_system(tmp_path, "darwin")
    [entry] = install.install([browser], system)
    support = system.home / "Library" / "Application Support"
    assert entry.manifest == support / folder / "NativeMessagingHosts" / f"{HOST_NAME}.json"
    assert entry.manifest.is_file()


def test_windows_registers_a_key_per_browser_pointing_to_one_manifest(tmp_path):
    system = make_system(tmp_path, "win32")
    install.install(install.BROWSERS, system)
    manifest = system.host_dir / f"{HOST_NAME}.json"
    assert system.registry.keys == {
        rf"Software\Google\Chrome\NativeMessagingHosts\{HOST_NAME}": str(manifest),
        rf"Software\Chromium\NativeMessagingHosts\{HOST_NAME}": str(manifest),
        rf"Software\BraveSoftware\Brave-Browser\NativeMessagingHosts\{HOST_NAME}": str(manifest),
        rf"Software\Microsoft\Edge\NativeMessagingHosts\{HOST_NAME}": str(manifest),
    }
    assert read_manifest(manifest)["path"] == str(system.host_dir / "moodtune-host.bat")
    assert not (system.home / ".config").exists()


# What gets written


def test_manifest_names_the_host_and_allows_only_the_extension(tmp_path):
    system = make_system(tmp_path, "linux")
    [entry] = install.install(["chrome"], system)
    assert read_manifest(entry.manifest) == {
        "name": HOST_NAME,
        "description": install.DESCRIPTION,
        "path": str(system.launcher),
        "type": "stdio",
        "allowed_origins": [ORIGIN],
    }


def test_extra_extension_ids_are_allowed_too(tmp_path):
    system = make_system(tmp_path, "linux")
    [entry] = install.install(
        ["chrome"], system, [EXTENSION_ID, "abcdefghijklmnopabcdefghijklmnop"]
    )
    assert read_manifest(entry.manifest)["allowed_origins"] == [
        ORIGIN,
        "chrome-extension://abcdefghijklmnopabcdefghijklmnop/",
    ]


def test_launcher_runs_the_installing_python_and_carries_the_data_dir(tmp_path):
    system = make_system(tmp_path, "linux", MOODTUNE_DATA_DIR="/srv/moodtune data")
    install.install(["chromium"], system, python="/opt/py 3/bin/python")
    text = system.launcher.read_text()
    assert "export MOODTUNE_DATA_DIR='/srv/moodtune data'\n" in text
    assert "exec '/opt/py 3/bin/python' -m host \"$@\"" in text
    assert os.access(system.launcher, os.X_OK)


def test_windows_launcher_is_a_batch_file_with_crlf_lines(tmp_path):
    system = make_system(tmp_path, "win32", MOODTUNE_DATA_DIR=r"C:\moodtune 100%")
    install.install(["edge"], system, python=r"C:\Python311\python.exe")
    raw = system.launcher.read_bytes().decode()
    assert raw.splitlines() == [
        "@echo off",
        r'set "MOODTUNE_DATA_DIR=C:\moodtune 100%"',
        rf'"C:\Python311\python.exe" -m host %* 2>>"{system.host_dir / "host.log"}"',
    ]
    assert raw.count("\r\n") == 3


@pytest.mark.skipif(sys.platform == "win32", reason="runs the POSIX launcher")
def test_launcher_hands_the_browsers_arguments_on_and_logs_stderr(tmp_path):
    # A stand-in for Python that shows what it was given.
    fake_python = tmp_path / "python"
    fake_python.write_text('#!/bin/sh\necho "args: $*"\necho "said on stderr" >&2\n')
    fake_python.chmod(0o755)
    system = make_system(tmp_path, "linux")
    launcher = install.write_launcher(system, str(fake_python), {"MOODTUNE_DATA_DIR": "x"})
    result = subprocess.run(
        [str(launcher), ORIGIN, "--parent-window=0"], capture_output=True, text=True, check=True
    )
    assert result.stdout == f"args: -m host {ORIGIN} --parent-window=0\n"
    assert result.stderr == ""
    assert (system.host_dir / "host.log").read_text() == "said on stderr\n"
    subprocess.run([str(launcher), ORIGIN], capture_output=True, check=True)
    assert (system.host_dir / "host.log").read_text() == "said on stderr\n" * 2, "appended"


@pytest.mark.parametrize(
    ("template", "windows"), [("moodtune-host.sh", False), ("moodtune-host.bat", True)]
)
def test_install_folder_templates_match_what_the_installer_writes(template, windows):
    rendered = install.render_launcher("{{PYTHON}}", "{{LOG}}", {}, windows)
    assert (REPO / "install" / template).read_bytes().decode() == rendered
    manifest = install.render_manifest("{{LAUNCHER}}", [EXTENSION_ID])
    assert (REPO / "install" / f"{HOST_NAME}.json").read_text() == manifest


# Uninstall


def test_uninstall_removes_the_manifests_and_then_the_launcher(tmp_path):
    system = make_system(tmp_path, "linux")
    entries = install.install(install.BROWSERS, system)
    removed = install.uninstall(["chrome"], system)
    assert [e.browser for e in removed] == ["chrome"]
    assert not entries[0].manifest.exists()
    assert system.launcher.exists()  # the other browsers still use it
    install.uninstall(install.BROWSERS, system)
    assert not any(entry.manifest.exists() for entry in entries)
    assert not system.launcher.exists()


def test_windows_uninstall_deletes_the_keys_and_the_files(tmp_path):
    system = make_system(tmp_path, "win32")
    install.install(install.BROWSERS, system)
    removed = install.uninstall(install.BROWSERS, system)
    assert len(removed) == 4
    assert system.registry.keys == {}
    assert list(system.host_dir.iterdir()) == []


# The doctor


def test_doctor_accepts_a_fresh_registration(tmp_path):
    system = make_system(tmp_path, "linux")
    install.install(["brave"], system)
    check = doctor.check_registration("brave", system)
    assert check.ok, check.detail


@pytest.mark.parametrize(
    ("break_it", "complaint"),
    [
        (lambda entry, system: entry.manifest.unlink(), "no manifest"),
        (lambda entry, system: entry.manifest.write_text("{"), "not valid JSON"),
        (lambda entry, system: system.launcher.unlink(), "does not exist"),
        (lambda entry, system: system.launcher.chmod(0o644), "not executable"),
        (
            lambda entry, system: install.write_manifest(
                entry.manifest, system.launcher, ["abcdefghijklmnopabcdefghijklmnop"]
            ),
            f"does not allow extension {EXTENSION_ID}",
        ),
    ],
)
def test_doctor_names_what_is_wrong_with_a_registration_and_the_fix(tmp_path, break_it, complaint):
    system = make_system(tmp_path, "linux")
    [entry] = install.install(["chrome"], system)
    break_it(entry, system)
    check = doctor.check_registration("chrome", system)
    assert not check.ok
    assert complaint in check.detail
    assert check.fix == "moodtune install --browser chrome"


def test_doctor_on_windows_needs_the_key_to_point_to_the_manifest(tmp_path):
    system = make_system(tmp_path, "win32")
    install.install(["chrome"], system)
    assert doctor.check_registration("chrome", system).ok
    key = rf"Software\Google\Chrome\NativeMessagingHosts\{HOST_NAME}"
    system.registry.write(key, r"C:\elsewhere\host.json")
    assert "points to" in doctor.check_registration("chrome", system).detail
    system.registry.delete(key)
    assert "no registry key" in doctor.check_registration("chrome", system).detail


def has_run(system: System, browser: str) -> None:
    """Make it look as if `browser` has been opened on `system` (it keeps a profile)."""
    (install.browser_data_dir(browser, system) / "Default").mkdir(parents=True)


def test_doctor_skips_browsers_this_computer_does_not_have(tmp_path, model_dir):
    system = make_system(tmp_path, "linux")
    has_run(system, "chromium")
    before = doctor.run_doctor(system, str(tmp_path / "none.mp4"), install.BROWSERS, model_dir)
    assert [(c.name, c.mark, c.detail) for c in before[2:]] == [
        ("chrome registration", "skip", "not installed, skipped"),
        ("chromium registration", "FAIL", before[3].detail),
        ("brave registration", "skip", "not installed, skipped"),
        ("edge registration", "skip", "not installed, skipped"),
    ]
    assert "no manifest" in before[3].detail
    install.install(["chromium"], system, python="/nonexistent/python")
    checks = doctor.run_doctor(system, str(tmp_path / "none.mp4"), install.BROWSERS, model_dir)
    assert [(c.name, c.mark) for c in checks] == [
        ("model", "ok  "),
        ("camera", "FAIL"),
        ("chrome registration", "skip"),
        ("chromium registration", "ok  "),
        ("brave registration", "skip"),
        ("edge registration", "skip"),
        ("host start", "FAIL"),
    ]


def test_doctor_skips_a_browser_the_listener_did_not_set_up_once_another_is(tmp_path, model_dir):
    system = make_system(tmp_path, "linux")
    has_run(system, "chrome")
    has_run(system, "brave")
    install.install(["brave"], system, python="/nonexistent/python")
    [chrome, brave] = doctor.check_browsers(system, ["chrome", "brave"])
    assert chrome.skipped and "moodtune install --browser chrome" in chrome.detail
    assert brave.ok and not brave.skipped


def test_doctor_says_when_no_browser_is_there_at_all(tmp_path):
    checks = doctor.check_browsers(make_system(tmp_path, "linux"), install.BROWSERS)
    assert [c.mark for c in checks] == ["skip"] * 4 + ["FAIL"]
    assert "moodtune demo" in checks[-1].fix


def test_registering_an_absent_browser_does_not_make_it_look_installed(tmp_path):
    system = make_system(tmp_path, "linux")
    install.install(["edge"], system, python="/nonexistent/python")
    assert not doctor.browser_present("edge", system)
    assert [c.name for c in doctor.check_browsers(system, ["edge"])] == ["edge registration"]


def test_doctor_model_check_names_the_missing_file(tmp_path, model_dir):
    assert doctor.check_model(model_dir).ok
    check = doctor.check_model(tmp_path)
    assert not check.ok
    assert "model.json" in check.detail


def test_doctor_camera_check_reads_a_video_file(tmp_path):
    video = tmp_path / "one.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for _ in range(3):
        writer.write(np.full((48, 64, 3), 128, np.uint8))
    writer.release()
    assert doctor.check_camera(str(video)).ok
    missing = doctor.check_camera(str(tmp_path / "gone.avi"))
    assert not missing.ok
    assert "no video file" in missing.detail


@pytest.mark.skipif(sys.platform == "win32", reason="runs the POSIX launcher")
def test_doctor_starts_the_real_host_through_the_launcher(tmp_path):
    system = make_system(tmp_path, "linux")
    environment = {"MOODTUNE_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(REPO)}
    launcher = install.write_launcher(system, sys.executable, environment)
    check = doctor.check_host_starts(launcher)
    assert check.ok, (check.detail, (system.host_dir / "host.log").read_text())
    assert "says hello" in check.detail


# The commands


def run_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="moodtune")
    subcommands = parser.add_subparsers(dest="command", required=True)
    install.register(subcommands)
    doctor.register(subcommands)
    args = parser.parse_args(argv)
    return args.run(args)


@pytest.mark.skipif(sys.platform != "linux", reason="checks Linux paths")
def test_install_then_uninstall_commands_for_the_current_user(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("MOODTUNE_DATA_DIR", str(tmp_path / "data"))
    assert run_command(["install", "--browser", "chromium"]) == 0
    manifest = tmp_path / ".config" / "chromium" / "NativeMessagingHosts" / f"{HOST_NAME}.json"
    assert read_manifest(manifest)["path"] == str(
        tmp_path / "data" / "native-host" / "moodtune-host"
    )
    assert "registered for chromium" in capsys.readouterr().out
    assert run_command(["uninstall"]) == 0
    assert not manifest.exists()
    assert "removed from chromium" in capsys.readouterr().out


@pytest.mark.skipif(sys.platform != "linux", reason="checks Linux paths")
def test_doctor_command_exits_non_zero_with_fixes(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("MOODTUNE_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / ".config" / "google-chrome" / "Default").mkdir(parents=True)
    assert run_command(["doctor", "--camera", str(tmp_path / "none.mp4")]) == 1
    out = capsys.readouterr().out
    assert "FAIL  chrome registration: no manifest" in out
    assert "fix: moodtune install --browser chrome" in out
    assert "skip  edge registration: not installed, skipped" in out
