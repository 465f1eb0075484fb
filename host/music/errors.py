"""What can go wrong when asking for music, as the rest of the host sees it."""

from __future__ import annotations


class UnknownLanguage(ValueError):
    """The listener asked for a language the music table does not have."""


class MusicUnavailable(RuntimeError):
    """YouTube Music could not be reached (or not read) and nothing usable was cached.

    `fallback_url` is a YouTube Music search for the mood in the chosen language, so the
    listener can still play something by hand.
    """

    def __init__(self, message: str, fallback_url: str, unreadable: bool = False) -> None:
        super().__init__(message)
        self.fallback_url = fallback_url
        #: YouTube Music was reached, but answered something moodtune cannot read.
        self.unreadable = unreadable


class FetchFailed(RuntimeError):
    """One YouTube Music request failed after the client's retries.

    `offline` is True when the network itself failed (no connection, timeout); `unreadable`
    when YouTube Music answered, but with something moodtune cannot read (another shape, a page
    that is not JSON, an answer far too large). Neither: it refused (an HTTP error).
    """

    def __init__(self, message: str, offline: bool = False, unreadable: bool = False) -> None:
        super().__init__(message)
        self.offline = offline
        self.unreadable = unreadable
