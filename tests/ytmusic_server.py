"""A stand-in for a YouTube Music that misbehaves, reached the way the host reaches the real one.

It is an HTTPS proxy on 127.0.0.1: the host's requests find it through the standard
`HTTPS_PROXY` variable, open a tunnel to music.youtube.com:443 with CONNECT, and speak TLS
inside, trusting a certificate made for the occasion (`REQUESTS_CA_BUNDLE`). So the host's real
client, session, watchdog and ytmusicapi all run; only the far end is replaced. Every request in
the tunnel gets the answer of the server's `mode`:

    trickle      200 with a long body sent one byte every TRICKLE_S
    hang         nothing at all, ever
    throttled    429 with an HTML page
    failing      500 with an HTML page
    wrong-shape  200 with JSON that is not a YouTube Music page
    huge         200 with a 300 MB body, chunked (no length to refuse it by)

`run_scenario` drives the real host through one mode: camera on, music asked for, then a play,
a like and a pause while the fetch is under way, then end of input; it returns the timings and
the host's peak memory. The tests assert generous bounds on them; tests/bench_network.py prints
them.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from host_process import HostProcess

MODES = ("trickle", "hang", "throttled", "failing", "wrong-shape", "huge")
TRICKLE_S = 0.2
HUGE_BYTES = 300 * 1024 * 1024
HTML = b"<html><head><title>Error</title></head><body>Sorry, something went wrong.</body></html>"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for music.youtube.com and its key."""
    cert, key = folder / "music.youtube.com.pem", folder / "music.youtube.com.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=music.youtube.com",
         "-addext", "subjectAltName=DNS:music.youtube.com"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


class MisbehavingYouTubeMusic:
    """The proxy and the server behind it, answering every request in `mode`."""

    def __init__(self, folder: Path, mode: str) -> None:
        assert mode in MODES, mode
        self.mode = mode
        self.cert, key = make_certificate(folder)
        self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._tls.load_cert_chain(self.cert, key)
        self.requests = 0
        self.asked = threading.Event()  # set at the first request inside a tunnel
        self.bytes_sent = 0
        self._closed = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def environment(self) -> dict[str, str]:
        proxy = f"http://127.0.0.1:{self.port}"
        return {"HTTPS_PROXY": proxy, "HTTP_PROXY": proxy, "REQUESTS_CA_BUNDLE": str(self.cert)}

    def close(self) -> None:
        self._closed.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client: socket.socket) -> None:
        with contextlib.suppress(OSError, ssl.SSLError), client:
            head = _read_head(client)
            if not head.startswith(b"CONNECT "):
                client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            with self._tls.wrap_socket(client, server_side=True) as tls:
                while head := _read_head(tls):
                    _skip_body(tls, head)
                    self.requests += 1
                    self.asked.set()
                    self._answer(tls)

    def _answer(self, tls: ssl.SSLSocket) -> None:
        if self.mode == "hang":
            while not self._closed.is_set() and tls.recv(1):
                pass  # until the client gives up
            raise OSError("hung up")
        if self.mode == "trickle":
            tls.sendall(_head(200, "application/json", length=100_000))
            while not self._closed.is_set():
                tls.sendall(b" ")
                self.bytes_sent += 1
                time.sleep(TRICKLE_S)
        if self.mode in ("throttled", "failing"):
            status = 429 if self.mode == "throttled" else 500
            tls.sendall(_head(status, "text/html", length=len(HTML)) + HTML)
            return
        if self.mode == "wrong-shape":
            body = b'{"responseContext": {}, "unexpected": [1, 2, 3]}'
            tls.sendall(_head(200, "application/json", length=len(body)) + body)
            return
        tls.sendall(_head(200, "application/json", chunked=True))  # huge
        chunk = b" " * (1024 * 1024)
        frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        while self.bytes_sent < HUGE_BYTES and not self._closed.is_set():
            tls.sendall(frame)
            self.bytes_sent += len(chunk)
        tls.sendall(b"0\r\n\r\n")


def _head(status: int, kind: str, length: int | None = None, chunked: bool = False) -> bytes:
    lines = [f"HTTP/1.1 {status} Whatever", f"Content-Type: {kind}"]
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _read_head(sock: socket.socket) -> bytes:
    """A request's head, read byte by byte so nothing after it is taken; b"" at the end."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        byte = sock.recv(1)
        if not byte:
            return b""
        head += byte
    return head


def _skip_body(sock: socket.socket, head: bytes) -> None:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            left = int(value)
            while left > 0:
                got = sock.recv(min(left, 65536))
                if not got:
                    return
                left -= len(got)


@dataclass(frozen=True)
class Figures:
    """What one scenario measured."""

    mode: str
    pause_s: float  # from sending `pause` to the host's `paused` status
    pong_s: float  # from sending a ping (after the pause) to its pong
    exit_s: float  # from closing stdin to the process's end
    peak_rss_mb: float  # the host's largest resident set seen while the fetch ran
    returncode: int
    stderr: str


def run_scenario(mode: str, folder: Path, video: Path, fetch_s: float = 1.5) -> Figures:
    """The host against YouTube Music in `mode`; see the module's docstring."""
    server = MisbehavingYouTubeMusic(folder, mode)
    host = HostProcess(folder / "data", env=server.environment)
    peak = [0.0]
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.is_set():
            peak[0] = max(peak[0], rss_mb(host.process.pid))
            time.sleep(0.05)

    try:
        host.wait_for("hello")
        host.send({"type": "start", "camera": str(video)})
        host.wait_for("status", state="camera")
        threading.Thread(target=sample, daemon=True).start()
        host.send({"type": "more_tracks", "count": 10})
        assert server.asked.wait(20), "the host never asked the stand-in"
        time.sleep(fetch_s)  # well inside the fetch (trickle, hang, a huge body under way)
        host.send({"type": "played", "video_id": "abcdefghijk"})
        host.send({"type": "feedback", "video_id": "abcdefghijk", "liked": True})
        sent = time.monotonic()
        host.send({"type": "pause"})
        host.wait_for("status", state="paused")
        pause_s = time.monotonic() - sent
        sent = time.monotonic()
        host.send({"type": "ping", "id": 99})
        host.wait_for("pong", id=99)
        pong_s = time.monotonic() - sent
        sampling.set()
        exit_s = host.close_stdin_and_wait()
        return Figures(mode, pause_s, pong_s, exit_s, peak[0], host.process.returncode, host.stderr)
    finally:
        sampling.set()
        host.kill()
        server.close()


def rss_mb(pid: int) -> float:
    """A process's resident set size in MB (0 once it has gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
