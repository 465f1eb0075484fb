"""Music that fits the mood: YouTube Music tracks for an emotion, a mode and a language.

`Recommender` is the blocking core (one call, one ordered list of tracks); `MusicWorker` runs
it on a thread of its own for the asyncio session; `languages()` lists the language choices.
Modules: catalog (the music table), matching (loose title matching), client (every ytmusicapi
call), parsers (ytmusicapi dicts -> songs), cache (answers kept in the store), recommender,
worker, store (the SQLite file), bench.
"""

from host.music.catalog import languages
from host.music.errors import MusicUnavailable, UnknownLanguage
from host.music.models import Track
from host.music.recommender import Recommender
from host.music.worker import MusicWorker

__all__ = [
    "MusicUnavailable",
    "MusicWorker",
    "Recommender",
    "Track",
    "UnknownLanguage",
    "languages",
]
