"""The recommender over recorded YouTube Music answers: what the listener would hear."""

from __future__ import annotations

import logging
from urllib.parse import quote_plus

import pytest
import requests
from ytmusic_replay import FIXTURES, Answer, ManualClock, Replay, replay_client

from host.music import MusicUnavailable, Recommender, UnknownLanguage
from host.music.cache import LISTINGS_TTL_S
from host.music.catalog import default_catalog
from host.music.store import DB_NAME, Store
from host.vocabulary import EMOTIONS, MODES

HOUR = 3600.0
CATALOG = default_catalog()


@pytest.fixture
def clock():
    return ManualClock(1_750_000_000.0)


@pytest.fixture
def store(tmp_path):
    opened = Store(tmp_path / DB_NAME)
    yield opened
    opened.close()


@pytest.fixture
def make(store, replay, clock):
    """Build a Recommender on the replay; keyword arguments go to Recommender."""

    def build(**options):
        return Recommender(store, replay_client(replay), clock=clock, **options)

    return build


def ids(tracks):
    return [t.video_id for t in tracks]


def category_params(title):
    """The params the recorded categories page gives `title` (never written into the code)."""
    return next(c.params for c in replay_client(Replay()).categories(None) if c.title == title)


def test_every_language_and_mode_gives_tracks_asked_for_in_its_own_words(tmp_path, clock):
    for number, lang in enumerate(CATALOG.languages.values()):
        replay = Replay()
        with_store = Store(tmp_path / f"{lang.code}.db")
        recommender = Recommender(with_store, replay_client(replay), repeat_window_s=0, clock=clock)
        moods = set()
        for offset, mode in enumerate(MODES):
            emotion = EMOTIONS[(number + offset) % len(EMOTIONS)]
            tracks = recommender.recommend(emotion, lang.code, mode)
            assert len(tracks) == 10, (lang.code, emotion, mode)
            assert all(t.video_id and t.title for t in tracks)
            moods |= set(CATALOG.plan(emotion, mode))
        searched = {s.query for s in replay.seen if s.route.startswith("search:")}
        assert searched == {lang.query(mood) for mood in moods}, lang.code
        assert {s.gl for s in replay.seen if s.route != "home"} == {lang.location}, lang.code
        with_store.close()


def test_a_language_may_be_given_by_its_english_name(make):
    assert make().recommend("sad", "Hindi")


def test_an_unknown_language_is_refused_before_any_request(make, replay):
    with pytest.raises(UnknownLanguage, match=r"'xx'.*hi \(Hindi\)"):
        make().recommend("sad", "xx")
    with pytest.raises(ValueError, match="'bored'"):
        make().recommend("bored", "hi")
    assert replay.seen == []


def test_lift_starts_at_the_mood_and_steps_toward_upbeat(make, replay):
    tracks = make().recommend("sad", "hi", "lift", count=10)
    steps = [t.reason.split(" from ")[0] for t in tracks]
    assert steps == ["lift 1/3"] * 4 + ["lift 2/3"] * 3 + ["lift 3/3"] * 3
    assert "sad, melancholic" in tracks[0].reason
    assert "upbeat, feel-good" in tracks[-1].reason
    hindi = CATALOG.languages["hi"]
    assert replay.queries("search:playlists") == [
        hindi.query(CATALOG.moods[name]) for name in ("sad", "hopeful", "upbeat")
    ]
    assert len(set(ids(tracks))) == 10, "no track twice in one list"


def test_calm_steps_down_in_arousal(make):
    tracks = make().recommend("angry", "en", "calm", count=6)
    labels = [t.reason.split(": ")[1].split(" · ")[0] for t in tracks]
    assert labels == ["dark, brooding"] * 2 + ["chill, mellow"] * 2 + ["calm, sleepy"] * 2


def test_match_says_which_mood_it_mirrors_and_where_the_track_came_from(make):
    track = make().recommend("happy", "fr")[0]
    assert track.reason.startswith("upbeat, feel-good, to match happy · playlist “")


def test_mood_categories_are_looked_up_by_title_at_run_time(make, replay):
    make().recommend("sad", "en")
    asked = [s.body["params"] for s in replay.seen if s.route == "browse:category"]
    assert asked[0] == category_params("Sad")


@pytest.mark.parametrize(
    ("title", "renamed", "emotion"),
    [("Energy Boosters", "Energize", "surprise"), ("Feel Good", "Feel-good", "happy")],
)
def test_a_renamed_category_is_still_found(make, replay, title, renamed, emotion):
    old = category_params(title)
    page = (FIXTURES / "get_mood_categories_20240723.json").read_text(encoding="utf-8")
    assert page.count(old) == 1
    drifted = page.replace(f'"{title}"', f'"{renamed}"').replace(old, "ggMPdrifted")
    replay.routes["browse:categories"] = Answer(200, drifted)
    make().recommend(emotion, "en")
    asked = [s.body["params"] for s in replay.seen if s.route == "browse:category"]
    assert asked[0] == "ggMPdrifted"


def test_the_language_genre_category_is_consulted(make, replay):
    make().recommend("happy", "ko")
    asked = {s.body["params"] for s in replay.seen if s.route == "browse:category"}
    assert category_params("K-Pop") in asked


@pytest.mark.parametrize(
    ("listed_as", "first_playlist"),
    [
        ("Dark Reggae Japan", "Dark Reggae Japan"),
        ("Reggae Japan", "Chill Korean Hip-Hop/R&B"),  # not dark: search's first instead
    ],
)
def test_genre_playlists_are_kept_only_when_they_name_the_mood(
    make, replay, listed_as, first_playlist
):
    page = (FIXTURES / "get_mood_playlists_20240723.json").read_text(encoding="utf-8")
    replay.routes["browse:category"] = Answer(200, page.replace("Reggae Japan", listed_as))
    tracks = make().recommend("fear", "ja")  # dark music: no mood category, only J-Pop's
    assert tracks[0].reason.endswith(f"playlist “{first_playlist}”")


@pytest.mark.parametrize(
    ("language", "playlist"),
    [
        ("fr", "French Caribbean Essentials"),
        ("ja", "Reggae Japan"),
        ("en", "Essential Reggae"),
        ("hi", "Chill Korean Hip-Hop/R&B"),  # no category playlist names Hindi: search's first
    ],
)
def test_category_playlists_are_kept_only_when_they_fit_the_language(make, language, playlist):
    tracks = make().recommend("sad", language)
    assert tracks[0].reason.endswith(f"playlist “{playlist}”")


def test_a_new_list_does_not_repeat_what_is_still_queued(make):
    recommender = make()
    first = recommender.recommend("sad", "hi")
    second = recommender.recommend("sad", "hi")
    assert not set(ids(first)) & set(ids(second))


def test_played_tracks_stay_out_for_the_repeat_window(make, clock):
    recommender = make()
    first = recommender.recommend("sad", "hi")
    second = recommender.recommend("sad", "hi")
    for track in first:
        recommender.record_play(track.video_id)
    clock.now += 2 * HOUR  # the queue has long moved on; the plays are still recent
    third = recommender.recommend("sad", "hi")
    assert not set(ids(first)) & set(ids(third))
    assert set(ids(second)) & set(ids(third)), "offered but never played may come back"
    clock.now += 5 * HOUR
    assert recommender.recommend("sad", "hi") == first, "after 6 h the favourites return"


def test_the_repeat_window_is_configurable(make, clock):
    recommender = make(repeat_window_s=60)
    first = recommender.recommend("sad", "hi")
    for track in first:
        recommender.record_play(track.video_id)
    assert not set(ids(first)) & set(ids(recommender.recommend("sad", "hi")))
    clock.now += 61
    assert ids(recommender.recommend("sad", "hi")) == ids(first)


def test_a_skipped_track_drops_far_for_that_emotion_only(make):
    recommender = make(repeat_window_s=0)
    before = ids(recommender.recommend("happy", "en", count=40))
    recommender.feedback(before[0], "happy", liked=False)
    after = ids(recommender.recommend("happy", "en", count=40))
    assert after.index(before[0]) >= 15
    recommender.feedback(before[1], "sad", liked=False)
    assert ids(recommender.recommend("happy", "en", count=40)) == after


def test_a_liked_track_comes_first(make):
    recommender = make(repeat_window_s=0)
    before = ids(recommender.recommend("happy", "en", count=10))
    recommender.feedback(before[7], "happy", liked=True)
    assert ids(recommender.recommend("happy", "en", count=10))[0] == before[7]


def test_a_skip_moves_the_artists_other_tracks_down_a_little(make):
    recommender = make(repeat_window_s=0)
    before = recommender.recommend("happy", "en", count=40)
    beatles = [t.video_id for t in before if "The Beatles" in t.artists]
    skipped, others = beatles[0], beatles[1:-1]  # the last may have no room to move
    assert len(others) >= 3
    recommender.feedback(skipped, "happy", liked=False)
    after = ids(recommender.recommend("happy", "en", count=40))

    def overtaken(video_id):
        """How many more other artists' tracks now play before `video_id`."""
        old, new = ids(before), after
        ahead_then = {v for v in old[: old.index(video_id)] if v not in beatles}
        ahead_now = {v for v in new[: new.index(video_id)] if v not in beatles}
        return len(ahead_now) - len(ahead_then)

    assert overtaken(skipped) >= 10
    for video_id in others:
        assert 1 <= overtaken(video_id) <= 3, video_id


def test_a_cached_mood_needs_no_network(make, replay):
    recommender = make(repeat_window_s=0)
    first = recommender.recommend("sad", "hi", "lift")
    asked = len(replay.seen)
    assert recommender.recommend("sad", "hi", "lift") == first
    assert len(replay.seen) == asked


def test_expired_answers_are_served_then_refreshed(make, replay, clock):
    recommender = make(repeat_window_s=0)
    first = recommender.recommend("happy", "en")
    clock.now += LISTINGS_TTL_S + 60
    replay.routes["browse:playlist"] = "get_playlist_20240624.json"  # the playlists changed
    asked = len(replay.seen)
    assert recommender.recommend("happy", "en") == first, "the old answer plays at once"
    assert len(replay.seen) == asked
    assert recommender.refresh_due() > 0
    assert "browse:playlist" in replay.routes_seen()[asked:]
    fresh = recommender.recommend("happy", "en")
    assert "Drive My Car (Remastered 2009)" in [t.title for t in fresh]


def test_offline_the_cached_answers_keep_playing(make, replay, clock, caplog):
    recommender = make(repeat_window_s=0)
    first = recommender.recommend("sad", "hi")
    clock.now += 3 * 24 * HOUR
    for route in list(replay.routes):
        replay.routes[route] = requests.ConnectionError("network is unreachable")
    assert recommender.recommend("sad", "hi") == first
    with caplog.at_level(logging.WARNING):
        assert recommender.refresh_due() == 0
    assert "kept" in caplog.text
    assert recommender.recommend("sad", "hi") == first


def test_offline_with_nothing_cached_gives_a_search_link(make, replay):
    replay.routes["home"] = requests.ConnectionError("Name or service not known")
    with pytest.raises(MusicUnavailable, match="nothing is cached for sad music in Hindi") as err:
        make().recommend("sad", "hi")
    phrase = CATALOG.languages["hi"].query(CATALOG.moods["sad"])
    assert err.value.fallback_url == "https://music.youtube.com/search?q=" + quote_plus(phrase)
    assert len(replay.seen) == 1, "one failed request, then the client stops trying"


def test_an_unrecorded_request_ends_in_a_clear_error(make, replay):
    replay.routes = {"home": replay.routes["home"]}
    with pytest.raises(MusicUnavailable, match="HTTP 404") as err:
        make().recommend("fear", "ta", "calm")
    assert err.value.fallback_url.startswith("https://music.youtube.com/search?q=")


def test_one_failing_source_does_not_stop_the_music(make, replay):
    del replay.routes["browse:categories"]
    tracks = make().recommend("sad", "en")
    assert len(tracks) == 10


def test_a_songs_search_fills_in_when_playlists_are_short(make, replay):
    replay.routes["browse:playlist"] = "get_playlist_20240624.json"  # 5 tracks
    tracks = make().recommend("sad", "es")
    phrase = CATALOG.languages["es"].query(CATALOG.moods["sad"])
    assert replay.queries("search:songs") == [phrase]
    assert len(tracks) == 10
    assert any(t.reason.endswith(f"search “{phrase}”") for t in tracks)


def test_radio_extends_a_mood_that_ran_short(make, replay):
    replay.routes["browse:playlist"] = "get_playlist_20240624.json"  # 5 tracks
    del replay.routes["search:songs"]
    tracks = make().recommend("sad", "pt")
    assert len(tracks) == 10
    radio = [t for t in tracks if " · radio after “" in t.reason]
    assert len(radio) == 5
    seeds = [s.body["videoId"] for s in replay.seen if s.route == "next:radio"]
    assert seeds and seeds[0] == tracks[0].video_id
