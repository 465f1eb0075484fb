"""A requests adapter that answers ytmusicapi from recorded YouTube Music responses.

Mounted on the session a MusicClient hands to ytmusicapi, so ytmusicapi builds its real
requests and parses the recorded bodies with its real parsers; only the network is replaced.
Each request is routed by InnerTube endpoint and body to a named route:

    home                    GET music.youtube.com (ytmusicapi reads its visitor id there)
    search:songs            search with the songs filter params
    search:playlists        search with the playlists filter params
    browse:categories       browse FEmusic_moods_and_genres
    browse:category         browse FEmusic_moods_and_genres_category (any params)
    browse:playlist         browse VL<playlist id>
    next:radio              next with a radio playlist id (RDAMVM<video id>)

A route answers with a fixture file name, an `Answer`, an exception to raise, or a callable
taking the `Seen` request and returning one of those. A request with no route gets a 404 page,
as an unrecorded request should. Everything asked is kept in `seen`, in order.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from ytmusicapi.parsers.search import get_search_params

from host.music.client import MusicClient, TimeoutSession

FIXTURES = Path(__file__).parent / "fixtures" / "ytmusic"

HOME_PAGE = '<html><script>ytcfg.set({"VISITOR_DATA": "replayed-visitor"});</script></html>'
THROTTLED_PAGE = "<html><title>429 Too Many Requests</title><body>Sorry...</body></html>"


@dataclass(frozen=True)
class Answer:
    """A response to give: status and body text."""

    status: int
    text: str


@dataclass(frozen=True)
class Seen:
    """One request the adapter received."""

    route: str
    method: str
    url: str
    body: dict[str, Any]
    timeout: Any

    @property
    def query(self) -> str | None:
        """The search text, for search requests."""
        return self.body.get("query")

    @property
    def gl(self) -> str | None:
        """The location (InnerTube `gl`) the request was made from."""
        return self.body.get("context", {}).get("client", {}).get("gl")


Route = str | Answer | Exception | Callable[[Seen], "str | Answer | Exception"]

DEFAULT_ROUTES: dict[str, Route] = {
    "home": Answer(200, HOME_PAGE),
    "search:songs": "search_songs_20231226.json",
    "search:playlists": "search_playlists_20231228.json",
    "browse:categories": "get_mood_categories_20240723.json",
    "browse:category": "get_mood_playlists_20240723.json",
    "browse:playlist": "get_playlist_public_20240301.json",
    "next:radio": "get_watch_playlist_20250630.json",
}

_SEARCH_ROUTES = {
    get_search_params(name, None, False): f"search:{name}" for name in ("songs", "playlists")
}


class Replay(BaseAdapter):
    """The replaying adapter; `routes` starts as DEFAULT_ROUTES and tests may change it."""

    def __init__(self) -> None:
        super().__init__()
        self.routes: dict[str, Route] = dict(DEFAULT_ROUTES)
        self.seen: list[Seen] = []

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        """Answer `request` from its route, or with a 404 page when it has none."""
        body = json.loads(request.body) if request.body else {}
        seen = Seen(_route(request, body), request.method or "", request.url or "", body, timeout)
        self.seen.append(seen)
        answer = self.routes.get(seen.route, Answer(404, f"<html>no recording for {seen}</html>"))
        if callable(answer):
            answer = answer(seen)
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, str):
            answer = Answer(200, (FIXTURES / answer).read_text(encoding="utf-8"))
        return _response(request, answer)

    def close(self) -> None:
        """Nothing to release."""

    def routes_seen(self) -> list[str]:
        """The route of every request so far, in order."""
        return [s.route for s in self.seen]

    def queries(self, route: str) -> list[str | None]:
        """The search text of every request on `route`, in order."""
        return [s.query for s in self.seen if s.route == route]


def replay_client(replay: Replay, **options: Any) -> MusicClient:
    """Return a MusicClient whose session answers from `replay` and which never sleeps."""
    session = TimeoutSession()
    session.mount("https://", replay)
    session.mount("http://", replay)
    options.setdefault("sleep", lambda seconds: None)
    return MusicClient(session, **options)


def _route(request: requests.PreparedRequest, body: dict[str, Any]) -> str:
    path = urlsplit(request.url or "").path
    endpoint = path.removeprefix("/youtubei/v1/")
    if request.method == "GET" and path in ("", "/"):
        return "home"
    if endpoint == "search":
        return _SEARCH_ROUTES.get(body.get("params"), "search:other")
    if endpoint == "browse":
        browse_id = body.get("browseId", "")
        if browse_id == "FEmusic_moods_and_genres":
            return "browse:categories"
        if browse_id == "FEmusic_moods_and_genres_category":
            return "browse:category"
        if browse_id.startswith("VL"):
            return "browse:playlist"
        return "browse:other"
    if endpoint == "next" and str(body.get("playlistId", "")).startswith("RDAMVM"):
        return "next:radio"
    return f"unrecorded:{endpoint}"


def _response(request: requests.PreparedRequest, answer: Answer) -> requests.Response:
    response = requests.Response()
    response.status_code = answer.status
    response.reason = {200: "OK", 404: "Not Found", 429: "Too Many Requests"}.get(
        answer.status, "Error"
    )
    response._content = answer.text.encode("utf-8")
    response.encoding = "utf-8"
    response.url = request.url or ""
    response.request = request
    return response


class ManualClock:
    """A clock (wall or monotonic) that the test moves by hand through `now`."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
