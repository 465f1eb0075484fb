"""One listener's session: commands in, events out, whatever the transport.

The session runs on an asyncio loop and never blocks it: the camera and the model work on their
own threads (see pipeline.Watcher), YouTube Music on the music worker's thread. Transports
(native messaging, the demo's web socket) hand it raw message bodies and an async `send`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path

from host import __version__
from host.music import (
    MusicUnavailable,
    MusicWorker,
    Recommender,
    Track,
    UnknownLanguage,
    languages,
)
from host.music.catalog import default_catalog
from host.music.store import Store
from host.protocol import (
    Command,
    EmotionEvent,
    Error,
    Event,
    Feedback,
    Hello,
    ModelInfo,
    MoreTracks,
    OverrideMood,
    Pause,
    Ping,
    Played,
    Pong,
    ProtocolError,
    SetLanguage,
    SetMode,
    Start,
    Status,
    Stop,
    TrackInfo,
    Tracks,
    parse_command,
)
from host.vision.camera import Camera, CameraError, Frame
from host.vision.emotion import MODEL_DIR, EmotionModel, ModelError, labelled
from host.vision.mood import Mood
from host.vision.pipeline import DEFAULT_FPS, FacePipeline, FrameResult, Watcher
from host.vocabulary import Emotion, ErrorCode, Mode, StatusState, TrackReason

log = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "en"
DEFAULT_MODE: Mode = "match"
QUEUE_LENGTH = 10
# Before the camera has settled on a mood, the first queue is for a neutral one.
STARTING_EMOTION: Emotion = "neutral"

Send = Callable[[Event], Awaitable[None]]
FrameListener = Callable[[FrameResult, Frame], None]


def open_music() -> MusicWorker:
    """The music worker for a live session: YouTube Music, cached in the user's data folder."""
    return MusicWorker(Recommender(Store()))


class Session:
    """Owns the camera watcher, the mood, the language and mode, and asks for tracks."""

    def __init__(
        self,
        send: Send,
        music: MusicWorker | None,
        model_dir: str | Path = MODEL_DIR,
        fps: float = DEFAULT_FPS,
        frame_listener: FrameListener | None = None,
    ) -> None:
        self.send = send
        self.music = music
        self.model_dir = Path(model_dir)
        self.fps = fps
        self.frame_listener = frame_listener
        self.language: str = DEFAULT_LANGUAGE
        self.mode: Mode = DEFAULT_MODE
        self.camera_mood: Mood | None = None
        self.override: Emotion | None = None
        self.watcher: Watcher | None = None
        self.camera_source: int | str | None = None
        self.state: StatusState = "idle"
        self.face = False
        self._model: EmotionModel | None = None
        self._tracks_generation = 0
        self._loop = asyncio.get_running_loop()

    # Lifecycle

    async def open(self) -> None:
        """Greet the extension with what this host offers, then report the camera state."""
        model_info, problem = None, None
        try:
            contract = (await self._ensure_model()).contract
            model_info = ModelInfo(
                name=contract.name, labels=contract.labels, accuracy=contract.accuracy
            )
        except ModelError as exc:
            problem = str(exc)
            log.error("%s", problem)
        await self.send(
            Hello(
                version=__version__,
                model=model_info,
                languages=languages(),
                language=self.language,
                mode=self.mode,
            )
        )
        if problem is not None:
            await self._error("model_missing", problem)
        await self._status()

    async def close(self) -> None:
        """Release the camera and the music worker."""
        await self._stop_camera()
        if self.music is not None:
            self.music.close()

    @property
    def emotion(self) -> Emotion | None:
        """The mood that music follows: the manual override, else the camera's."""
        return self.override or (self.camera_mood.emotion if self.camera_mood else None)

    # Commands

    async def handle(self, body: bytes) -> None:
        """Act on one raw message; anything wrong with it is answered with an `error` event."""
        try:
            command = parse_command(body)
        except ProtocolError as exc:
            await self._error(exc.code, str(exc))
            return
        await self.execute(command)

    async def execute(self, command: Command) -> None:
        match command:
            case Ping(id=ping_id):
                await self.send(Pong(id=ping_id))
            case Start(camera=source):
                await self._start_camera(source)
            case Stop():
                await self._stop_camera()
                self.camera_mood = None
                await self._status()
            case Pause():
                await self._stop_camera()
                self.state = "paused"
                await self._status()
            case SetLanguage(language=language):
                await self._set_language(language)
            case SetMode(mode=mode):
                self.mode = mode
                self._spawn(self._refresh_tracks("mode"))
            case OverrideMood(emotion=emotion):
                await self._override(emotion)
            case Feedback(video_id=video_id, liked=liked):
                if self.music is not None:
                    await self.music.feedback(video_id, self.emotion or STARTING_EMOTION, liked)
            case Played(video_id=video_id):
                if self.music is not None:
                    await self.music.record_play(video_id)
            case MoreTracks(count=count):
                self._spawn(self._refresh_tracks("more", count))

    async def _set_language(self, language: str) -> None:
        code = _language_code(language)
        if code is None:
            valid = ", ".join(f"{c} ({n})" for c, n in languages().items())
            await self._error(
                "unknown_language", f"unknown language {language!r}; choose one of {valid}"
            )
            return
        self.language = code
        self._spawn(self._refresh_tracks("language"))

    async def _override(self, emotion: Emotion | None) -> None:
        before = self.emotion
        self.override = emotion
        await self._send_mood()
        if self.emotion != before and self.emotion is not None:
            self._spawn(self._refresh_tracks("mood"))

    # Camera

    async def _start_camera(self, source: int | str) -> None:
        if self.watcher is not None and source == self.camera_source:
            await self._status()
            return
        await self._stop_camera()
        self.state, self.camera_source = "starting", source
        await self._status()
        try:
            model = await self._ensure_model()
            camera = await asyncio.to_thread(Camera, source, self._camera_problem)
        except ModelError as exc:
            await self._fail("model_missing", str(exc))
            return
        except CameraError as exc:
            await self._fail("camera_unavailable", str(exc))
            return
        self.watcher = Watcher(
            camera, FacePipeline(model), self._frame_done, self._camera_ended, fps=self.fps
        )
        self.state = "camera"
        await self._status()

    async def _ensure_model(self) -> EmotionModel:
        """The emotion model, loaded once off the event loop; raises ModelError."""
        if self._model is None:
            self._model = await asyncio.to_thread(EmotionModel.load, self.model_dir)
        return self._model

    async def _stop_camera(self) -> None:
        watcher, self.watcher = self.watcher, None
        if watcher is not None:
            await asyncio.to_thread(watcher.stop)
        self.state, self.face = "idle", False

    async def _fail(self, code: ErrorCode, message: str) -> None:
        self.state = "error"
        await self._status(detail=message)
        await self._error(code, message)

    def _camera_problem(self, message: str) -> None:
        """Called on the camera thread when a device stops delivering frames."""
        self._loop.call_soon_threadsafe(self._spawn, self._fail("camera_unavailable", message))

    async def _camera_back(self) -> None:
        if self.watcher is not None and self.state == "error":
            self.state = "camera"
            await self._status(detail="the camera is back")

    def _camera_ended(self) -> None:
        self._loop.call_soon_threadsafe(self._spawn, self._on_camera_ended())

    async def _on_camera_ended(self) -> None:
        await self._stop_camera()
        await self._status(detail="the video ended")

    def _frame_done(self, result: FrameResult, frame: Frame) -> None:
        """Called on the watcher thread after every processed frame."""
        if self.frame_listener is not None:
            self.frame_listener(result, frame)
        if self.state == "error":
            self._loop.call_soon_threadsafe(self._spawn, self._camera_back())
        if result.mood is not None:
            self._loop.call_soon_threadsafe(self._spawn, self._on_mood(result))

    async def _on_mood(self, result: FrameResult) -> None:
        assert result.mood is not None
        before = self.emotion
        self.camera_mood, self.face = result.mood, result.mood.face
        if self.override is None:
            await self._send_mood()
        if self.emotion != before and self.emotion is not None:
            await self._refresh_tracks("mood")

    async def _send_mood(self) -> None:
        """Tell the extension the mood music follows now: the override, else the camera's."""
        mood = self.camera_mood
        emotion: Emotion | None
        probabilities: dict[str, float]
        if self.override is not None:
            emotion, confidence, probabilities = self.override, 1.0, {}
        elif mood is not None:
            emotion, confidence = mood.emotion, round(mood.confidence, 4)
            probabilities = labelled(mood.probabilities)
        else:
            emotion, confidence, probabilities = None, 0.0, {}
        await self.send(
            EmotionEvent(
                emotion=emotion,
                confidence=confidence,
                probabilities=probabilities,
                face=self.face,
                timestamp=time.time(),
                source="camera" if self.override is None else "override",
            )
        )

    # Music

    async def _refresh_tracks(self, reason: TrackReason, count: int = QUEUE_LENGTH) -> None:
        """Ask for tracks for the current mood, mode and language; drop answers overtaken since.

        Commands start this as a task of its own, so a slow YouTube Music never delays the
        next command (a pause, a ping) behind it.
        """
        if self.music is None:
            return
        self._tracks_generation += 1
        generation = self._tracks_generation
        emotion, mode, language = self.emotion or STARTING_EMOTION, self.mode, self.language
        try:
            tracks = await self.music.recommend(emotion, language, mode, count)
        except UnknownLanguage as exc:
            await self._error("unknown_language", str(exc))
            return
        except MusicUnavailable as exc:
            await self.send(
                Error(code="music_unavailable", message=str(exc), fallback_url=exc.fallback_url)
            )
            return
        except Exception as exc:
            log.exception("recommendation failed")
            await self._error("music_error", f"could not get tracks: {exc}")
            return
        if generation != self._tracks_generation and reason != "more":
            return
        await self.send(
            Tracks(
                emotion=emotion,
                mode=mode,
                language=language,
                reason=reason,
                tracks=tuple(_track_info(t) for t in tracks),
            )
        )

    # Events

    async def _status(self, detail: str | None = None) -> None:
        await self.send(
            Status(state=self.state, camera=self.camera_source, face=self.face, detail=detail)
        )

    async def _error(self, code: ErrorCode, message: str, fatal: bool = False) -> None:
        await self.send(Error(code=code, message=message, fatal=fatal))

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        task.add_done_callback(_log_failure)


def _language_code(language: str) -> str | None:
    """The code for a language given by code or display name (any case); None if unknown."""
    try:
        return default_catalog().language(language).code
    except UnknownLanguage:
        return None


def _track_info(track: Track) -> TrackInfo:
    return TrackInfo(**asdict(track))


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("session task failed", exc_info=task.exception())
