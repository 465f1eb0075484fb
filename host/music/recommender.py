"""Choosing tracks: (emotion, mode, language, history, feedback) -> ordered tracks.

For each mood of the emotion's plan (see catalog.py) the recommender gathers candidates, best
sources first; past the first two playlists it fetches more only when too few tracks are left:

1. playlists from YouTube Music's own categories: the mood's "Moods & moments" category, keeping
   playlists whose title names the language, and the language's genre category, keeping
   playlists whose title names the mood; then playlists found by searching the mood's phrase in
   the listener's language, from the language's location;
2. a songs search with that phrase, when the playlists fall short;
3. radio after the best candidates, when what is left after history is still short.

Tracks played within the repeat window, or offered within the last hour (still queued, most
likely), are left out. The rest keep their source order, moved by feedback: a like lifts a
track, a skip sinks it, and each also nudges the track's artists a little, per emotion.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import quote_plus

from host.music.cache import MusicCache
from host.music.catalog import Catalog, Language, Mood, default_catalog
from host.music.errors import FetchFailed, MusicUnavailable
from host.music.matching import find_category, mentions
from host.music.models import PlaylistRef, Song, Track
from host.music.store import Scores, Store
from host.vocabulary import EMOTIONS

if TYPE_CHECKING:
    from host.music.client import MusicClient

log = logging.getLogger(__name__)

#: Score a like adds to the track (a skip takes it away), and to each of its artists.
TRACK_STEP = 1.0
ARTIST_STEP = 0.5
#: How far one point of score moves a candidate, as a fraction of the candidate list.
TRACK_WEIGHT = 0.5
ARTIST_WEIGHT = 0.1
#: Playlists always loaded for a mood (so its tracks mix), and at most when it runs short.
#: Beyond the first ones, a source is only fetched when too few tracks are left: a cached
#: mood then answers from the store alone.
PLAYLISTS_MIXED = 2
PLAYLISTS_PER_MOOD = 4
RADIO_SEEDS = 2
#: Offered tracks are most likely still in the player's queue: do not offer them twice.
OFFER_HOLD_S = 3600.0
SEARCH_URL = "https://music.youtube.com/search?q="

T = TypeVar("T")


@dataclass(frozen=True)
class Candidate:
    """A song that could be played, and where it was found (said in the track's reason)."""

    song: Song
    source: str


class Recommender:
    """Picks YouTube Music tracks for an emotion; blocking, meant for one worker thread.

    `client` defaults to a MusicClient on the network; `repeat_window_s` is how long a played
    track stays out. `catalog` and `clock` are there for tests and tools.
    """

    def __init__(
        self,
        store: Store,
        client: MusicClient | None = None,
        repeat_window_s: float = 6 * 3600,
        *,
        catalog: Catalog | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._cache = MusicCache(store, client, clock)
        self._catalog = catalog if catalog is not None else default_catalog()
        self._repeat_window_s = repeat_window_s
        self._clock = clock

    @property
    def store(self) -> Store:
        return self._store

    def recommend(
        self, emotion: str, language: str, mode: str = "match", count: int = 10
    ) -> list[Track]:
        """Return up to `count` tracks for `emotion` in `language`, in play order.

        In `lift` and `calm` the list walks through the plan's moods in order. Raises
        UnknownLanguage, ValueError for an unknown emotion or mode, and MusicUnavailable when
        YouTube Music cannot be reached and nothing usable is cached.
        """
        lang = self._catalog.language(language)
        plan = self._catalog.plan(emotion, mode)
        if count < 1:
            raise ValueError(f"count must be at least 1, not {count}")
        now = self._clock()
        held = self._store.history_since("played", now - self._repeat_window_s)
        held |= self._store.history_since("offered", now - min(OFFER_HOLD_S, self._repeat_window_s))
        held |= self._store.unplayable()
        scores = self._store.scores(emotion)
        failures: list[FetchFailed] = []
        tracks: list[Track] = []
        carried = 0  # tracks a mood could not supply pass to the next one
        for step, (mood, share) in enumerate(zip(plan, _shares(count, len(plan)), strict=True)):
            need = share + carried
            if need == 0:
                continue
            picked = _rank(self._candidates(mood, lang, held, need, failures), scores)[:need]
            carried = need - len(picked)
            reason = _reason(emotion, mode, plan, step)
            tracks += [Track.chosen(c.song, f"{reason} · {c.source}") for c in picked]
            held |= {c.song.video_id for c in picked}
        if not tracks and failures:
            raise MusicUnavailable(
                f"{_what_failed(failures)} and nothing is cached for {emotion} music "
                f"in {lang.name} ({failures[0]})",
                search_url(lang, plan[0]),
                unreadable=all(f.unreadable for f in failures),
            )
        if failures:
            log.warning(
                "%d YouTube Music request(s) failed; chose from the rest (%s)",
                len(failures),
                failures[0],
            )
        self._store.add_history((t.video_id for t in tracks), "offered", at=now)
        self._store.remember_artists({t.video_id: t.artists for t in tracks})
        return tracks

    def record_play(self, video_id: str) -> None:
        """Note that the player started `video_id`: it stays out for the repeat window."""
        self._store.add_history([video_id], "played", at=self._clock())

    def mark_unplayable(self, video_id: str) -> None:
        """The player could not play `video_id`: it is not offered again."""
        self._store.mark_unplayable(video_id, at=self._clock())

    def feedback(self, video_id: str, emotion: str, liked: bool) -> None:
        """A like raises the track (and a little its artists) for `emotion`; a skip lowers it."""
        if emotion not in EMOTIONS:
            raise ValueError(f"unknown emotion {emotion!r}; choose one of: {', '.join(EMOTIONS)}")
        sign = 1.0 if liked else -1.0
        self._store.add_feedback(video_id, emotion, sign * TRACK_STEP, sign * ARTIST_STEP)

    def refresh_due(self) -> int:
        """Refetch the cached answers served past their time-to-live; return how many."""
        return self._cache.refresh_due()

    def _candidates(
        self,
        mood: Mood,
        lang: Language,
        held: set[str],
        need: int,
        failures: list[FetchFailed],
    ) -> list[Candidate]:
        """Return the not-held candidates for `mood` in `lang`, best first."""
        sources: list[list[Candidate]] = []

        def fresh() -> list[Candidate]:
            return [c for c in _interleave(sources) if c.song.video_id not in held]

        for ref in self._playlists(mood, lang, failures)[:PLAYLISTS_PER_MOOD]:
            if len(sources) >= PLAYLISTS_MIXED and len(fresh()) >= need:
                break
            load = partial(self._cache.playlist_songs, lang.location, ref.playlist_id)
            songs = _attempt(failures, load)
            sources.append([Candidate(song, f"playlist “{ref.title}”") for song in songs])
        if len(fresh()) < need:
            query = lang.query(mood)
            songs = _attempt(failures, partial(self._cache.search_songs, lang.location, query))
            sources.append([Candidate(song, f"search “{query}”") for song in songs])
        candidates = fresh()
        if len(candidates) < need:
            seeds = _interleave(sources)[:RADIO_SEEDS]
            taken = held | {c.song.video_id for c in candidates}
            candidates += self._radio(lang, seeds, taken, failures)
        return candidates

    def _playlists(
        self, mood: Mood, lang: Language, failures: list[FetchFailed]
    ) -> list[PlaylistRef]:
        """Return the playlists for `mood` in `lang`: curated category ones first, then search."""
        found: list[PlaylistRef] = []
        categories = _attempt(failures, partial(self._cache.categories, lang.location))
        for names, title_needs_mood in ((mood.categories, False), (lang.genres, True)):
            category = find_category(categories, names)
            if category is None:
                continue
            listed = _attempt(
                failures, partial(self._cache.category_playlists, lang.location, category)
            )
            found += [
                ref
                for ref in listed
                if self._in_language(ref.title, lang)
                and (not title_needs_mood or mentions(ref.title, mood.keywords))
            ]
        query = lang.query(mood)
        found += _attempt(failures, partial(self._cache.search_playlists, lang.location, query))
        unique: dict[str, PlaylistRef] = {}
        for ref in found:
            unique.setdefault(ref.playlist_id, ref)
        return list(unique.values())

    def _radio(
        self, lang: Language, seeds: list[Candidate], taken: set[str], failures: list[FetchFailed]
    ) -> list[Candidate]:
        """Return radio candidates after each seed, leaving out the `taken` video ids."""
        found: list[Candidate] = []
        for seed in seeds:
            radio = partial(self._cache.radio, lang.location, seed.song.video_id)
            for song in _attempt(failures, radio):
                if song.video_id not in taken:
                    taken.add(song.video_id)
                    found.append(Candidate(song, f"radio after “{seed.song.title}”"))
        return found

    def _in_language(self, title: str, lang: Language) -> bool:
        """True when a playlist title names `lang`, or (for a language without keywords, such
        as English) names none of the other languages."""
        if lang.keywords:
            return mentions(title, lang.keywords)
        return not any(
            mentions(title, other.keywords)
            for other in self._catalog.languages.values()
            if other.code != lang.code
        )


def search_url(lang: Language, mood: Mood) -> str:
    """Return a YouTube Music search link for `mood` music in `lang`."""
    return SEARCH_URL + quote_plus(lang.query(mood))


def _attempt(failures: list[FetchFailed], fetch: Callable[[], list[T]]) -> list[T]:
    """Return what `fetch` returns, or an empty list after noting its failure."""
    try:
        return fetch()
    except FetchFailed as exc:
        failures.append(exc)
        return []


def _what_failed(failures: list[FetchFailed]) -> str:
    """What went wrong, in words: unreachable is only said when the network itself failed."""
    if any(f.offline for f in failures):
        return "YouTube Music is unreachable"
    if all(f.unreadable for f in failures):
        return "YouTube Music answered something moodtune cannot read"
    return "YouTube Music refused moodtune's requests"


def _shares(count: int, steps: int) -> list[int]:
    """Split `count` tracks over `steps` moods, earlier moods taking the remainder."""
    base, extra = divmod(count, steps)
    return [base + (1 if step < extra else 0) for step in range(steps)]


def _interleave(sources: Iterable[list[Candidate]]) -> list[Candidate]:
    """Return the sources' candidates taken in turn, each video once."""
    seen: set[str] = set()
    merged: list[Candidate] = []
    lists = list(sources)
    for rank in range(max((len(s) for s in lists), default=0)):
        for source in lists:
            if rank < len(source) and source[rank].song.video_id not in seen:
                seen.add(source[rank].song.video_id)
                merged.append(source[rank])
    return merged


def _rank(candidates: list[Candidate], scores: Scores) -> list[Candidate]:
    """Return the candidates reordered by feedback; without any, the order is unchanged."""
    size = len(candidates)

    def key(pair: tuple[int, Candidate]) -> float:
        index, candidate = pair
        track = scores.tracks.get(candidate.song.video_id, 0.0)
        artists = sum(scores.artists.get(name, 0.0) for name in candidate.song.artists)
        return index / size - TRACK_WEIGHT * track - ARTIST_WEIGHT * artists

    return [candidate for _, candidate in sorted(enumerate(candidates), key=key)]


def _reason(emotion: str, mode: str, plan: tuple[Mood, ...], step: int) -> str:
    """Say why a track of plan step `step` was chosen, e.g. "lift 2/3 from sad: hopeful"."""
    mood = plan[step]
    if mode == "match":
        return f"{mood.label}, to match {emotion}"
    return f"{mode} {step + 1}/{len(plan)} from {emotion}: {mood.label}"
