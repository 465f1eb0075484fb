"""The music table: which music fits each emotion and mode, and how to ask for it per language.

Everything here comes from one data file, `host/data/music.json`; host/music/README.md explains
its fields and shows the emotion-to-music table, which `python -m host.music` renders from the
file.

- `moods`: the kinds of music moodtune plays. Each has a label (said in track reasons), a place
  on Russell's valence/arousal plane (-1..1), the "Moods & moments" category titles that carry
  it, in order of preference, and keywords that spot it in a playlist title.
- `plans`: for every emotion and mode, the moods to play, in order. `match` is one mood that
  mirrors the emotion. `lift` follows the iso principle of music therapy: it starts at the
  matching mood and steps to more positive ones. `calm` steps down in arousal.
- `languages`: per language code, its English name, the YouTube Music location that surfaces
  its music, the genre categories that hold it, keywords that spot it in a playlist title, and
  one search phrase per mood written in that language.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from host.music.errors import UnknownLanguage
from host.vocabulary import EMOTIONS, MODES, Emotion, Mode


@dataclass(frozen=True)
class Mood:
    """A kind of music: where it sits on the valence/arousal plane and how to find it."""

    name: str
    label: str
    valence: float
    arousal: float
    categories: tuple[str, ...]
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Language:
    """A language the listener can choose, and how to find its music."""

    code: str
    name: str
    location: str | None
    genres: tuple[str, ...]
    keywords: tuple[str, ...]
    queries: Mapping[str, str]

    def query(self, mood: Mood) -> str:
        """Return the search phrase, in this language, for music of `mood`."""
        return self.queries[mood.name]


@dataclass(frozen=True)
class Catalog:
    """The loaded music table."""

    moods: Mapping[str, Mood]
    plans: Mapping[tuple[Emotion, Mode], tuple[Mood, ...]]
    languages: Mapping[str, Language]

    def language(self, code_or_name: str) -> Language:
        """Return the language for a code ("hi") or English name ("Hindi"), any case.

        Raises UnknownLanguage, naming what was asked and listing the valid codes.
        """
        wanted = code_or_name.strip().casefold()
        for language in self.languages.values():
            if wanted in (language.code, language.name.casefold()):
                return language
        choices = ", ".join(f"{lang.code} ({lang.name})" for lang in self.languages.values())
        raise UnknownLanguage(f"unknown language {code_or_name!r}; choose one of: {choices}")

    def plan(self, emotion: str, mode: str) -> tuple[Mood, ...]:
        """Return the moods to play, in order, for `emotion` in `mode`."""
        if emotion not in EMOTIONS:
            raise ValueError(f"unknown emotion {emotion!r}; choose one of: {', '.join(EMOTIONS)}")
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; choose one of: {', '.join(MODES)}")
        return self.plans[emotion, mode]


def load_catalog(path: Path | None = None) -> Catalog:
    """Read and check the music table (default: the packaged `host/data/music.json`).

    Raises ValueError naming the first gap: an emotion or mode without a plan, a plan naming an
    unknown mood, a language missing a mood's search phrase, or a malformed code or location.
    """
    if path is None:
        text = resources.files("host").joinpath("data/music.json").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    table = json.loads(text)
    moods = {name: _mood(name, entry) for name, entry in table["moods"].items()}
    plans = {
        (emotion, mode): _plan(emotion, mode, table["plans"], moods)
        for emotion in EMOTIONS
        for mode in MODES
    }
    languages = {code: _language(code, entry, moods) for code, entry in table["languages"].items()}
    return Catalog(moods, plans, languages)


@cache
def default_catalog() -> Catalog:
    """Return the packaged music table, loaded once."""
    return load_catalog()


def languages() -> dict[str, str]:
    """Return the listener's language choices: code -> English name, in table order."""
    return {code: lang.name for code, lang in default_catalog().languages.items()}


def mapping_table_markdown(catalog: Catalog) -> str:
    """Return the emotion x mode table as Markdown, one row per emotion."""
    rows = ["| emotion | match | lift | calm |", "| --- | --- | --- | --- |"]
    for emotion in EMOTIONS:
        cells = [" → ".join(m.name for m in catalog.plans[emotion, mode]) for mode in MODES]
        rows.append(f"| {emotion} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def moods_table_markdown(catalog: Catalog) -> str:
    """Return the moods as Markdown: label, valence, arousal and the categories tried."""
    rows = [
        "| mood | label | valence | arousal | categories tried |",
        "| --- | --- | --- | --- | --- |",
    ]
    for mood in catalog.moods.values():
        categories = ", ".join(mood.categories) or "(search only)"
        rows.append(
            f"| {mood.name} | {mood.label} | {mood.valence:+.1f} | {mood.arousal:+.1f} "
            f"| {categories} |"
        )
    return "\n".join(rows)


def _mood(name: str, entry: dict[str, Any]) -> Mood:
    return Mood(
        name=name,
        label=entry["label"],
        valence=float(entry["valence"]),
        arousal=float(entry["arousal"]),
        categories=tuple(entry["categories"]),
        keywords=tuple(entry["keywords"]),
    )


def _plan(
    emotion: str, mode: str, plans: dict[str, Any], moods: dict[str, Mood]
) -> tuple[Mood, ...]:
    names = plans.get(emotion, {}).get(mode)
    if not names:
        raise ValueError(f"music table: no {mode!r} plan for {emotion!r}")
    unknown = [name for name in names if name not in moods]
    if unknown:
        raise ValueError(f"music table: plan {emotion}/{mode} names unknown moods {unknown}")
    return tuple(moods[name] for name in names)


def _language(code: str, entry: dict[str, Any], moods: dict[str, Mood]) -> Language:
    if not re.fullmatch(r"[a-z]{2,3}", code):
        raise ValueError(f"music table: language code {code!r} is not a 2-3 letter code")
    location = entry.get("location")
    if location is not None and not re.fullmatch(r"[A-Z]{2}", location):
        raise ValueError(f"music table: {code} location {location!r} is not a country code")
    missing = [name for name in moods if not entry["queries"].get(name, "").strip()]
    if missing:
        raise ValueError(f"music table: {code} has no search phrase for {missing}")
    return Language(
        code=code,
        name=entry["name"],
        location=location,
        genres=tuple(entry["genres"]),
        keywords=tuple(entry["keywords"]),
        queries=dict(entry["queries"]),
    )
