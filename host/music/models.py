"""The plain values the music package passes around."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Song:
    """A playable YouTube Music track, before anyone has chosen it."""

    video_id: str
    title: str
    artists: tuple[str, ...]
    album: str | None
    duration_s: int | None
    thumbnail: str | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Song:
        """Rebuild a song from its `dataclasses.asdict` form (how the cache stores it)."""
        return cls(**{**data, "artists": tuple(data["artists"])})


@dataclass(frozen=True)
class Track(Song):
    """A song chosen for the listener, with a short reason it was chosen."""

    reason: str

    @classmethod
    def chosen(cls, song: Song, reason: str) -> Track:
        """Return `song` as a track picked for `reason`."""
        return cls(**asdict(song), reason=reason)


@dataclass(frozen=True)
class PlaylistRef:
    """A playlist found by search or in a category: its id (no "VL" prefix) and title."""

    playlist_id: str
    title: str


@dataclass(frozen=True)
class Category:
    """A "Moods & genres" category as YouTube Music names it today, with its browse params."""

    title: str
    params: str
