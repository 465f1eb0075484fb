"""Turn what ytmusicapi returns (plain dicts) into moodtune's Song, PlaylistRef and Category.

ytmusicapi's dicts differ by call: search and playlists give `duration_seconds`, the watch
playlist gives only a "m:ss" `length`; thumbnails sit under `thumbnails` or `thumbnail`; some
items lack artists, or are podcast episodes. Those differences end here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from host.music.models import Category, PlaylistRef, Song

Item = Mapping[str, Any]

#: Items of these types are spoken word, not music.
_NOT_MUSIC = {"MUSIC_VIDEO_TYPE_PODCAST_EPISODE"}


def songs(items: Iterable[Item]) -> list[Song]:
    """Return the playable music among `items` (tracks of a playlist, search or radio)."""
    found = []
    for item in items:
        song = _song(item)
        if song is not None:
            found.append(song)
    return found


def playlists(items: Iterable[Item]) -> list[PlaylistRef]:
    """Return the playlists among search or category results, ids without the "VL" prefix.

    Search results name playlists by browse id ("VL…"); other browse ids (podcasts, "MPSP…")
    are not playlists and are left out.
    """
    found = []
    for item in items:
        title = item.get("title")
        playlist_id = item.get("playlistId")
        browse_id = item.get("browseId") or ""
        if not playlist_id and browse_id.startswith("VL"):
            playlist_id = browse_id[2:]
        if playlist_id and title:
            found.append(PlaylistRef(playlist_id=playlist_id, title=title))
    return found


def categories(sections: Mapping[str, Iterable[Item]]) -> list[Category]:
    """Return every category of `get_mood_categories()`'s sections, in page order."""
    return [
        Category(title=entry["title"], params=entry["params"])
        for entries in sections.values()
        for entry in entries
        if entry.get("title") and entry.get("params")
    ]


def duration_seconds(item: Item) -> int | None:
    """Return the item's length in seconds, from `duration_seconds` or a "h:mm:ss" text."""
    seconds = item.get("duration_seconds")
    if isinstance(seconds, int):
        return seconds
    text = item.get("length") or item.get("duration")
    if not isinstance(text, str):
        return None
    total = 0
    for part in text.strip().split(":"):
        if not part.isdigit():
            return None
        total = total * 60 + int(part)
    return total


def _song(item: Item) -> Song | None:
    video_id = item.get("videoId")
    title = item.get("title")
    if not video_id or not title or item.get("isAvailable") is False:
        return None
    if item.get("videoType") in _NOT_MUSIC:
        return None
    artists = tuple(a["name"] for a in item.get("artists") or () if a.get("name"))
    album = item.get("album")
    return Song(
        video_id=video_id,
        title=title,
        artists=artists,
        album=album.get("name") if isinstance(album, Mapping) else None,
        duration_s=duration_seconds(item),
        thumbnail=_largest_thumbnail(item.get("thumbnails") or item.get("thumbnail") or ()),
    )


def _largest_thumbnail(thumbnails: Iterable[Item]) -> str | None:
    best = max(thumbnails, key=lambda t: t.get("width") or 0, default=None)
    return best.get("url") if best else None
