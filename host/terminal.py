"""Text from elsewhere (track titles, artists, error messages) made safe to print on a terminal.

A title can carry ESC and BEL sequences that a terminal would obey (retitle the window, move the
cursor, hide what follows), or bidirectional overrides that reorder what is shown. Printed lines
keep everything else, emoji and every script included.
"""

from __future__ import annotations

import re

# C0 and C1 controls and DEL (keeping tab), and the bidirectional embedding, override and
# isolate marks.
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` without the characters a terminal would act on instead of showing."""
    return _UNSAFE.sub("", text)
