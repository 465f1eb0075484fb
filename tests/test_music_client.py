"""The YouTube Music client: ytmusicapi's real request and parse path over recorded answers."""

from __future__ import annotations

import pytest
import requests
from ytmusic_replay import THROTTLED_PAGE, Answer, ManualClock, replay_client

from host.music.client import ATTEMPTS, COOL_DOWN_S, TIMEOUT
from host.music.errors import FetchFailed
from host.music.models import Category


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def ticker():
    return ManualClock(1000.0)


@pytest.fixture
def client(replay, sleeps, ticker):
    return replay_client(replay, sleep=sleeps.append, clock=ticker)


def answers(*responses):
    """A route that gives `responses` in turn, then keeps giving the last one."""
    queue = list(responses)
    return lambda seen: queue.pop(0) if len(queue) > 1 else queue[0]


def test_every_request_has_a_connect_and_read_timeout(client, replay):
    client.categories("IN")
    client.search_songs("IN", "दर्द भरे हिंदी गाने")
    assert replay.seen
    assert all(seen.timeout == TIMEOUT for seen in replay.seen)


def test_requests_go_out_from_the_language_location_in_english(client, replay):
    client.search_playlists("KR", "슬픈 발라드")
    client.search_playlists("JP", "泣ける邦楽")
    searches = [s for s in replay.seen if s.route == "search:playlists"]
    assert [(s.gl, s.query) for s in searches] == [("KR", "슬픈 발라드"), ("JP", "泣ける邦楽")]
    assert {s.body["context"]["client"]["hl"] for s in searches} == {"en"}


def test_recorded_songs_become_tracks_with_artists_album_duration_and_thumbnail(client):
    songs = client.search_songs("US", "beatles")
    assert len(songs) == 12
    first = songs[0]
    assert (first.video_id, first.title, first.album, first.duration_s) == (
        "fOjuqmZzul4",
        "Now And Then",
        "The Beatles",
        249,
    )
    assert first.artists == (), "the recorded song without artists still plays"
    assert first.thumbnail.startswith("https://") and "w120-h120" in first.thumbnail
    assert all(song.artists for song in songs[1:])


def test_radio_durations_come_from_the_length_text_and_the_seed_is_left_out(client):
    radio = client.radio(None, "lYBUbBu4W08")
    assert radio, "the recorded radio has tracks"
    assert "lYBUbBu4W08" not in {song.video_id for song in radio}
    assert all(isinstance(song.duration_s, int) and song.duration_s > 60 for song in radio)


def test_playlist_search_keeps_playlists_and_drops_podcasts(client):
    found = client.search_playlists("US", "chill")
    titles = [ref.title for ref in found]
    assert "Chill Korean Hip-Hop/R&B" in titles
    assert "HELLO FARMAISH" not in titles, "a podcast is not a playlist"
    assert all(not ref.playlist_id.startswith("VL") for ref in found)


def test_categories_carry_the_params_youtube_music_gave_today(client):
    categories = client.categories("US")
    sad = [c for c in categories if c.title == "Sad"]
    assert sad and sad[0].params.startswith("ggMP")
    assert {"Chill", "Energy Boosters", "Bollywood & Indian", "K-Pop"} <= {
        c.title for c in categories
    }


def test_a_throttled_request_is_retried_with_backoff(client, replay, sleeps):
    replay.routes["search:songs"] = answers(
        Answer(429, THROTTLED_PAGE), "search_songs_20231226.json"
    )
    assert client.search_songs("IN", "sad")
    assert replay.routes_seen().count("search:songs") == 2
    assert sleeps == [0.5]


def test_an_html_page_where_json_was_expected_is_retried(client, replay, sleeps):
    replay.routes["search:songs"] = answers(
        Answer(200, THROTTLED_PAGE), Answer(200, THROTTLED_PAGE), "search_songs_20231226.json"
    )
    assert client.search_songs("IN", "sad")
    assert sleeps == [0.5, 1.0]


def test_retries_are_bounded_then_the_client_rests(client, replay, sleeps, ticker):
    replay.routes["search:songs"] = Answer(429, THROTTLED_PAGE)
    with pytest.raises(FetchFailed, match=f"HTTP 429.*gave up after {ATTEMPTS} tries"):
        client.search_songs("IN", "sad")
    assert replay.routes_seen().count("search:songs") == ATTEMPTS
    asked = len(replay.seen)
    with pytest.raises(FetchFailed, match="not retrying"):
        client.search_songs("IN", "sad")
    assert len(replay.seen) == asked, "no request while resting"


def test_a_network_error_fails_at_once_and_later_calls_fail_fast(client, replay, ticker):
    replay.routes["home"] = requests.ConnectionError("Name or service not known")
    with pytest.raises(FetchFailed, match="cannot reach YouTube Music") as error:
        client.categories("IN")
    assert error.value.offline
    assert len(replay.seen) == 1, "a dead network is not retried"
    with pytest.raises(FetchFailed, match="not retrying"):
        client.search_songs("IN", "sad")
    assert len(replay.seen) == 1
    ticker.now += COOL_DOWN_S + 1
    replay.routes["home"] = Answer(200, "<html></html>")
    assert client.categories("IN"), "after the cool-down the client tries again"


def test_an_unrecorded_request_is_a_clear_error_and_not_retried(client, replay):
    del replay.routes["browse:playlist"]
    with pytest.raises(FetchFailed, match="playlist PL123: YouTube Music answered HTTP 404"):
        client.playlist_songs("IN", "PL123")
    assert replay.routes_seen().count("browse:playlist") == 1
    assert client.categories("IN"), "a 404 does not make the client rest"


def test_a_page_in_an_unknown_shape_is_a_clear_error(client, replay):
    replay.routes["browse:category"] = Answer(200, '{"contents": {}}')
    with pytest.raises(FetchFailed, match="unexpected answer"):
        client.category_playlists("IN", Category("Sad", "ggMPtest"))
