"""The music table: languages, the emotion-by-mode mapping, and loose title matching."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from ytmusicapi.constants import SUPPORTED_LOCATIONS

from host.music import UnknownLanguage, languages
from host.music.catalog import (
    default_catalog,
    load_catalog,
    mapping_table_markdown,
    moods_table_markdown,
)
from host.music.matching import find_category, mentions, title_matches
from host.music.models import Category
from host.vocabulary import EMOTIONS, MODES

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "host" / "data" / "music.json"
REQUIRED = {
    "hi": "Hindi",
    "en": "English",
    "ta": "Tamil",
    "te": "Telugu",
    "mr": "Marathi",
    "es": "Spanish",
    "ko": "Korean",
    "ja": "Japanese",
    "pt": "Portuguese",
    "fr": "French",
    "ar": "Arabic",
    "pa": "Punjabi",
    "bn": "Bengali",
}


def test_the_popup_offers_every_promised_language():
    assert REQUIRED.items() <= languages().items()


@pytest.mark.parametrize("asked", ["hi", "HI", "Hindi", "hindi", " Hindi "])
def test_a_language_can_be_named_by_code_or_english_name(asked):
    assert default_catalog().language(asked).code == "hi"


def test_an_unknown_language_is_named_and_the_valid_codes_listed():
    with pytest.raises(UnknownLanguage) as error:
        default_catalog().language("Klingon")
    message = str(error.value)
    assert "'Klingon'" in message
    assert all(f"{code} ({name})" in message for code, name in REQUIRED.items())


def test_every_language_has_a_phrase_of_its_own_for_every_mood():
    catalog = default_catalog()
    english = catalog.languages["en"]
    for lang in catalog.languages.values():
        phrases = [lang.query(mood) for mood in catalog.moods.values()]
        assert len(set(phrases)) == len(phrases), f"{lang.code} repeats a phrase"
        if lang.code != "en":
            assert not set(phrases) & set(english.queries.values()), f"{lang.code} is English"


def test_non_latin_languages_are_worded_in_their_own_script():
    scripts = {
        "hi": "\u0900-\u097f",
        "mr": "\u0900-\u097f",
        "ta": "\u0b80-\u0bff",
        "te": "\u0c00-\u0c7f",
        "pa": "\u0a00-\u0a7f",
        "bn": "\u0980-\u09ff",
        "ko": "\uac00-\ud7af",
        "ja": "\u3040-\u30ff\u4e00-\u9fff",
        "ar": "\u0600-\u06ff",
    }
    catalog = default_catalog()
    for code, letters in scripts.items():
        for phrase in catalog.languages[code].queries.values():
            assert re.search(f"[{letters}]", phrase), f"{code}: {phrase!r}"


def test_every_location_is_one_youtube_music_accepts():
    for lang in default_catalog().languages.values():
        assert lang.location in SUPPORTED_LOCATIONS, lang.code
    assert {default_catalog().languages[c].location for c in ("hi", "ta", "te", "mr")} == {"IN"}


def test_every_emotion_and_mode_has_a_plan():
    catalog = default_catalog()
    for emotion in EMOTIONS:
        for mode in MODES:
            assert catalog.plan(emotion, mode)
    assert all(len(catalog.plan(emotion, "match")) == 1 for emotion in EMOTIONS)


def test_lift_starts_at_the_matching_mood_and_never_gets_sadder():
    catalog = default_catalog()
    for emotion in EMOTIONS:
        lift = catalog.plan(emotion, "lift")
        assert lift[0] == catalog.plan(emotion, "match")[0], emotion
        valences = [mood.valence for mood in lift]
        assert valences == sorted(valences), emotion
        assert valences[-1] >= 0.5, emotion


def test_calm_never_raises_arousal_and_ends_low():
    catalog = default_catalog()
    for emotion in EMOTIONS:
        arousals = [mood.arousal for mood in catalog.plan(emotion, "calm")]
        assert arousals == sorted(arousals, reverse=True), emotion
        assert arousals[-1] <= -0.5, emotion


def test_unknown_emotion_or_mode_is_refused_by_name():
    with pytest.raises(ValueError, match="'bored'"):
        default_catalog().plan("bored", "match")
    with pytest.raises(ValueError, match="'party'"):
        default_catalog().plan("sad", "party")


def test_the_readme_shows_the_table_the_code_uses():
    readme = (ROOT / "host" / "music" / "README.md").read_text(encoding="utf-8")
    assert mapping_table_markdown(default_catalog()) in readme
    assert moods_table_markdown(default_catalog()) in readme


def test_a_table_with_a_missing_phrase_is_refused(tmp_path):
    table = json.loads(TABLE.read_text(encoding="utf-8"))
    del table["languages"]["ta"]["queries"]["sad"]
    broken = tmp_path / "music.json"
    broken.write_text(json.dumps(table), encoding="utf-8")
    with pytest.raises(ValueError, match="ta has no search phrase for \\['sad'\\]"):
        load_catalog(broken)


def test_a_table_without_a_plan_is_refused(tmp_path):
    table = json.loads(TABLE.read_text(encoding="utf-8"))
    del table["plans"]["fear"]["calm"]
    broken = tmp_path / "music.json"
    broken.write_text(json.dumps(table), encoding="utf-8")
    with pytest.raises(ValueError, match="no 'calm' plan for 'fear'"):
        load_catalog(broken)


@pytest.mark.parametrize(
    ("wanted", "title"),
    [
        ("Energize", "Energy Boosters"),
        ("Energize", "Energise"),
        ("Workout", "Workouts"),
        ("Feel Good", "Feel-good"),
        ("Feel Good", "FEEL GOOD"),
        ("Bollywood & Indian", "Indian & Bollywood"),
        ("K-Pop", "K-pop"),
    ],
)
def test_drifted_category_titles_still_match(wanted, title):
    assert title_matches(wanted, title)


@pytest.mark.parametrize(
    ("wanted", "title"),
    [("K-Pop", "Pop"), ("K-Pop", "Kids Pop"), ("Feel Good", "Feel Sad"), ("Sad", "Sleep")],
)
def test_different_category_titles_do_not_match(wanted, title):
    assert not title_matches(wanted, title)


def test_an_exact_title_wins_over_a_loose_one():
    categories = [Category("Energy Boosters", "p1"), Category("Energize", "p2")]
    assert find_category(categories, ["Energize"]) == Category("Energize", "p2")
    assert find_category(categories[:1], ["Energize", "Party"]) == Category("Energy Boosters", "p1")
    assert find_category(categories, ["Sleep"]) is None


def test_playlist_titles_are_recognised_in_any_script():
    assert mentions("Bollywood Sad Songs", ["hindi", "bollywood"])
    assert mentions("泣ける邦楽ベスト", ["邦楽"])
    assert mentions("K-Pop Ballads", ["k-pop"])
    assert not mentions("Tamil Sad Hits", ["hindi", "bollywood"])
