"""A native host that says hello like the real one and dies on `start`, as a host did on a
camera setting it could not read (issue 10). A browser test registers it in place of the real
host to see what the extension does with a host that fails the same way every time.
"""

from __future__ import annotations

import json
import sys

from host.protocol import Hello, Status, encode_event
from host.transports.framing import read_frame, write_frame


def main() -> int:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    hello = Hello(
        version="stand-in", model=None, languages={"en": "English"}, language="en", mode="match"
    )
    write_frame(stdout, encode_event(hello))
    write_frame(stdout, encode_event(Status(state="idle")))
    while (frame := read_frame(stdin)) is not None:
        if json.loads(frame).get("type") == "start":
            return 70  # dies, as on a camera setting it cannot read
    return 0


if __name__ == "__main__":
    sys.exit(main())
