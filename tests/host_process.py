"""The host as Chrome runs it: `python -m host <origin>`, speaking native messaging on stdio."""

from __future__ import annotations

import json
import os
import queue
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXTENSION_ORIGIN = "chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik/"


class HostProcess:
    """`python -m host <origin>` with helpers to send commands and wait for events."""

    def __init__(self, data_dir: Path, env: Mapping[str, str] | None = None) -> None:
        env = {
            **os.environ,
            "MOODTUNE_DATA_DIR": str(data_dir),
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "host", EXTENSION_ORIGIN],
            cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        self.events: queue.Queue[dict | None] = queue.Queue()
        self.stdout_garbage = bytearray()
        self._stderr = bytearray()
        threading.Thread(target=self._read, daemon=True).start()
        # Drained as it comes, so a chatty host never blocks on a full stderr pipe.
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    @property
    def stderr(self) -> str:
        return self._stderr.decode("utf-8", "replace")

    def _drain_stderr(self) -> None:
        while chunk := self.process.stderr.read1(65536):
            self._stderr += chunk

    def _read(self) -> None:
        out = self.process.stdout
        while header := out.read(4):
            (length,) = struct.unpack("=I", header)
            body = out.read(length)
            try:
                self.events.put(json.loads(body))
            except json.JSONDecodeError:
                self.stdout_garbage += header + body
        self.events.put(None)

    def send_raw(self, body: bytes) -> None:
        self.process.stdin.write(struct.pack("=I", len(body)) + body)
        self.process.stdin.flush()

    def send(self, message: dict) -> None:
        self.send_raw(json.dumps(message).encode())

    def wait_for(self, kind: str, timeout: float = 20.0, **fields) -> dict:
        """The next event of type `kind` (with the given field values), skipping others."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                break
            if event is None:
                raise AssertionError(f"host exited while waiting for {kind}")
            if event["type"] == kind and all(event.get(k) == v for k, v in fields.items()):
                return event
        raise AssertionError(f"no {kind} event {fields} within {timeout} s")

    def close_stdin_and_wait(self) -> float:
        """Close stdin as Chrome does on disconnect; seconds until the process exits."""
        start = time.monotonic()
        self.process.stdin.close()
        self.process.wait(timeout=10)
        return time.monotonic() - start

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
