"""Loose matching of YouTube Music titles against the names in the music table.

Category titles drift over time and by region ("Energy Boosters" became "Energize",
"Feel Good" is sometimes "Feel-good"), so the table names what it wants and these functions
decide what on today's page fits.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from host.music.models import Category

#: Two words this long that start alike are taken for the same word ("energize"/"energy").
STEM = 5


def normalize(text: str) -> str:
    """Return `text` case-folded, with punctuation as single spaces ("Feel-Good" -> "feel good")."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", folded).split())


def title_matches(wanted: str, title: str) -> bool:
    """True when every word of `wanted` is, or shares a stem with, a word of `title`."""
    title_words = normalize(title).split()
    return all(
        any(_alike(word, other) for other in title_words) for word in normalize(wanted).split()
    )


def find_category(categories: Sequence[Category], wanted: Iterable[str]) -> Category | None:
    """Return the first category fitting one of the `wanted` names, in the order given.

    For each name an exact (normalized) title wins over a loose one.
    """
    for name in wanted:
        key = normalize(name)
        exact = [c for c in categories if normalize(c.title) == key]
        loose = [c for c in categories if title_matches(name, c.title)]
        if exact or loose:
            return (exact or loose)[0]
    return None


def mentions(title: str, keywords: Iterable[str]) -> bool:
    """True when the title contains one of the keywords (normalized, anywhere in the text).

    Substrings rather than words, because keywords may be stems ("melanchol") or in scripts
    written without spaces ("邦楽").
    """
    text = normalize(title)
    return any(normalize(keyword) in text for keyword in keywords)


def _alike(a: str, b: str) -> bool:
    return a == b or (len(a) >= STEM and len(b) >= STEM and a[:STEM] == b[:STEM])
