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
from host.music.store import OLD_SHARED_PROFILE, JournalSource, Store
from host.protocol import (
    Calibrate,
    Calibrated,
    CalibrationProgress,
    Command,
    DeleteJournal,
    EmotionEvent,
    Error,
    Event,
    ExportJournal,
    Feedback,
    GetJournal,
    Hello,
    JournalDeleted,
    JournalEvent,
    JournalExport,
    JournalMood,
    JournalTrack,
    ModelInfo,
    MoreTracks,
    OverrideMood,
    Pause,
    Ping,
    Played,
    Pong,
    ProtocolError,
    ResetCalibration,
    SetAway,
    SetLanguage,
    SetMode,
    SetProfile,
    SetRetention,
    Start,
    Status,
    Stop,
    TrackInfo,
    Tracks,
    Unplayable,
    parse_command,
)
from host.vision.calibration import (
    CALIBRATION_DEADLINE_S,
    CALIBRATION_S,
    Calibration,
    CalibrationError,
    RestingFace,
)
from host.vision.camera import Camera, CameraError, Frame
from host.vision.camera import camera_source as parse_camera
from host.vision.emotion import MODEL_DIR, EmotionModel, ModelError, labelled
from host.vision.mood import Mood
from host.vision.pipeline import AWAY_AFTER_S, DEFAULT_FPS, FacePipeline, FrameResult, Watcher
from host.vocabulary import Emotion, ErrorCode, FrameQuality, Mode, StatusState, TrackReason

log = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "en"
DEFAULT_MODE: Mode = "match"
QUEUE_LENGTH = 10
# Before the camera has settled on a mood, the first queue is for a neutral one.
STARTING_EMOTION: Emotion = "neutral"
# A change of `status.quality` is told once it has held this long (a passing shadow is not).
QUALITY_HOLD_S = 1.0
# Before calibrations and journals were kept per browser profile, the one listener's were kept
# under OLD_SHARED_PROFILE. The first extension profile to say its id adopts them: most computers
# have one listener, who should not have to calibrate again after an update nor lose their
# journal; where two share one, the other finds none and is offered calibration (and a "Reset"
# puts right a calibration adopted by the wrong person). The demo, with a fixed profile of its
# own, never adopts them.
# How often the journal's open mood is told it still lasts: a killed host loses at most this.
JOURNAL_TOUCH_S = 30.0
JOURNAL_DEFAULT_DAYS = 7
# Native messaging carries at most 1 MB a message: the CSV goes in parts of this many
# characters (4 bytes each at worst).
EXPORT_PART_CHARS = 200_000
# Tracks remembered from `tracks` events, so a `played` one can be journaled with its title.
OFFERED_LIMIT = 500

Send = Callable[[Event], Awaitable[None]]
FrameListener = Callable[[FrameResult, Frame], None]


def open_music(store: Store) -> MusicWorker:
    """The music worker for a live session: YouTube Music, cached in `store`."""
    return MusicWorker(Recommender(store))


class Session:
    """Owns the camera watcher, the mood, the language and mode, and asks for tracks."""

    def __init__(
        self,
        send: Send,
        music: MusicWorker | None,
        model_dir: str | Path = MODEL_DIR,
        fps: float = DEFAULT_FPS,
        frame_listener: FrameListener | None = None,
        store: Store | None = None,
        profile: str | None = None,
    ) -> None:
        self.send = send
        self.music = music
        self.store = store  # the calibration and the journal; None keeps neither
        # Whose calibration and journal are used and kept: None until the extension's
        # `set_profile`.
        self.profile = profile
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
        self.away_after_s: float | None = AWAY_AFTER_S
        self.quality: FrameQuality | None = None  # what status.quality says now
        self._quality_candidate: tuple[FrameQuality, float] = ("ok", 0.0)
        self._model: EmotionModel | None = None
        self._tracks_generation = 0
        self._loop = asyncio.get_running_loop()
        self.calibration: Calibration | None = None
        self._resting: RestingFace | None = None
        self._resting_deadline: asyncio.TimerHandle | None = None
        self._progress_sent = 0.0
        self._journal_lock = asyncio.Lock()
        # The open journal mood: whose, what and from where (its row is `_journal_id`).
        self._journal_entry: tuple[str, Emotion, JournalSource] | None = None
        self._journal_id: int | None = None
        self._journal_touch: asyncio.Task | None = None
        self._offered: dict[str, TrackInfo] = {}

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
        await self._load_calibration()
        self._journal_touch = asyncio.ensure_future(self._touch_journal())
        await self.send(
            Hello(
                version=__version__,
                model=model_info,
                languages=languages(),
                language=self.language,
                mode=self.mode,
                calibrated_since=self._calibrated_since,
            )
        )
        if problem is not None:
            await self._error("model_missing", problem)
        self._watch_store()
        await self._status()

    async def close(self) -> None:
        """Release the camera and the music worker; the journal's mood ends here."""
        await self._stop_camera()
        if self._journal_touch is not None:
            self._journal_touch.cancel()
        self.override = None
        await self._journal_update()
        if self.music is not None:
            self.music.close()

    @property
    def emotion(self) -> Emotion | None:
        """The mood that music follows: the manual override, else the camera's."""
        return self.override or (self.camera_mood.emotion if self.camera_mood else None)

    # Commands

    async def handle(self, body: bytes) -> None:
        """Act on one raw message; anything wrong with it is answered with an `error` event.

        Nothing a command does ends the session: a failure is logged with its traceback and
        told as `command_failed`, and the next command is served as usual.
        """
        try:
            command = parse_command(body)
        except ProtocolError as exc:
            await self._error(exc.code, str(exc))
            return
        try:
            await self.execute(command)
        except Exception as exc:
            log.exception("the %s command failed", command.type)
            await self._error(
                "command_failed",
                f"moodtune could not carry out {command.type!r} ({type(exc).__name__}: {exc}); "
                "it carries on. Try again; if it keeps failing, `moodtune doctor` shows the log.",
            )

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
                await self._journal_update()
            case Pause():
                await self._stop_camera()
                self.state = "paused"
                await self._status()
                await self._journal_update()
            case SetLanguage(language=language):
                await self._set_language(language)
            case SetMode(mode=mode):
                self.mode = mode
                self._spawn(self._refresh_tracks("mode"))
            case OverrideMood(emotion=emotion):
                await self._override(emotion)
            case Feedback(video_id=video_id, liked=liked):
                if self.music is not None:
                    emotion = self.emotion or STARTING_EMOTION
                    self._spawn(self._written(self.music.feedback(video_id, emotion, liked)))
            case Played(video_id=video_id):
                if self.music is not None:
                    self._spawn(self._written(self.music.record_play(video_id)))
                await self._journal_played(video_id)
            case Unplayable(video_id=video_id):
                if self.music is not None:
                    self._spawn(self._written(self.music.mark_unplayable(video_id)))
            case MoreTracks(count=count):
                self._spawn(self._refresh_tracks("more", count))
            case SetAway(after_s=after_s):
                self.away_after_s = after_s
                if self.watcher is not None:
                    self.watcher.away_after_s = after_s
            case Calibrate():
                await self._calibrate()
            case ResetCalibration():
                await self._reset_calibration()
            case SetProfile(profile=profile):
                await self._set_profile(profile)
            case GetJournal(since=since, until=until):
                await self._send_journal(since, until)
            case ExportJournal():
                await self._export_journal()
            case DeleteJournal():
                await self._delete_journal()
            case SetRetention(days=days):
                await self._set_retention(days)

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
        await self._journal_update()
        if self.emotion != before and self.emotion is not None:
            self._spawn(self._refresh_tracks("mood"))

    # Camera

    async def _start_camera(self, given: int | str) -> None:
        try:
            source = parse_camera(given)
        except CameraError as exc:
            await self._fail("camera_unavailable", str(exc))
            return
        if self.watcher is not None and source == self.camera_source:
            await self._status()
            return
        await self._stop_camera()
        self.state, self.camera_source = "starting", source
        await self._status()
        try:
            model = await self._ensure_model()
            camera = await asyncio.to_thread(Camera, source, self._camera_problem, fps=self.fps)
        except ModelError as exc:
            await self._fail("model_missing", str(exc))
            return
        except CameraError as exc:
            await self._fail("camera_unavailable", str(exc))
            return
        pipeline = FacePipeline(model, calibration=self.calibration)
        self.watcher = Watcher(
            camera, pipeline, self._frame_done, self._camera_ended, fps=self.fps,
            away_after_s=self.away_after_s, on_away=self._away_changed,
        )  # fmt: skip
        self.quality, self._quality_candidate = "ok", ("ok", 0.0)
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
        self.state, self.face, self.quality = "idle", False, None
        if self._resting is not None:
            self._end_resting()
            await self._error(
                "calibration_needs_camera",
                "The camera stopped while calibrating. Turn it on, then calibrate again.",
            )

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
        if self._resting is not None:
            self._loop.call_soon_threadsafe(self._resting_frame, result)
        if result.mood is not None:
            self._loop.call_soon_threadsafe(self._spawn, self._on_mood(result))
        self._follow_quality(result)

    # Away and frame quality (both told in `status`)

    def _away_changed(self, away: bool) -> None:
        """Called on the watcher thread when nobody has been in view for a while, or is back."""
        self._loop.call_soon_threadsafe(self._spawn, self._on_away(away))

    async def _on_away(self, away: bool) -> None:
        if self.watcher is None or self.state not in ("camera", "away"):
            return
        self.state = "away" if away else "camera"
        await self._status()

    def _follow_quality(self, result: FrameResult) -> None:
        """On the watcher thread: tell a new quality once it has held for QUALITY_HOLD_S."""
        candidate, since = self._quality_candidate
        if result.quality != candidate:
            self._quality_candidate = (result.quality, result.timestamp)
        elif candidate != self.quality and result.timestamp - since >= QUALITY_HOLD_S:
            self.quality = candidate
            self._loop.call_soon_threadsafe(self._spawn, self._status())

    async def _on_mood(self, result: FrameResult) -> None:
        assert result.mood is not None
        before = self.emotion
        self.camera_mood, self.face = result.mood, result.mood.face
        if self.override is None:
            await self._send_mood()
        await self._journal_update()
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
            code: ErrorCode = "music_unreadable" if exc.unreadable else "music_unavailable"
            await self.send(Error(code=code, message=str(exc), fallback_url=exc.fallback_url))
            return
        except Exception as exc:
            log.exception("recommendation failed")
            await self._error("music_error", f"could not get tracks: {exc}")
            return
        if generation != self._tracks_generation and reason != "more":
            return
        infos = tuple(_track_info(t) for t in tracks)
        if len(self._offered) > OFFERED_LIMIT:
            self._offered.clear()
        self._offered.update((info.video_id, info) for info in infos)
        await self.send(
            Tracks(emotion=emotion, mode=mode, language=language, reason=reason, tracks=infos)
        )

    # The store

    def _watch_store(self) -> None:
        """Tell the extension, once, when the store works from memory (now or later)."""
        store = self.store if self.store is not None else getattr(self.music, "store", None)
        if store is None:
            return
        if store.problem is not None:
            self._spawn(self._error("store_unavailable", store.problem))
            return

        def tell(problem: str) -> None:  # on whichever thread found the problem
            self._loop.call_soon_threadsafe(self._tell_store_problem, problem)

        store.on_problem = tell

    def _tell_store_problem(self, problem: str) -> None:
        self._spawn(self._error("store_unavailable", problem))

    async def _written(self, write: Awaitable[None]) -> None:
        """Wait for a play, feedback or unplayable write off the command loop; a failure is told,
        not fatal."""
        try:
            await write
        except Exception as exc:
            log.exception("a play or feedback could not be recorded")
            await self._error("store_unavailable", f"moodtune could not record that: {exc}")

    # Events

    async def _status(self, detail: str | None = None) -> None:
        await self.send(
            Status(
                state=self.state,
                camera=self.camera_source,
                face=self.face,
                detail=detail,
                quality=self.quality if self.state in ("camera", "away") else None,
                calibrated_since=self._calibrated_since,
            )
        )

    async def _error(self, code: ErrorCode, message: str, fatal: bool = False) -> None:
        await self.send(Error(code=code, message=message, fatal=fatal))

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        task.add_done_callback(_log_failure)

    # The listener: calibration to their resting face

    @property
    def _calibrated_since(self) -> float | None:
        return None if self.calibration is None else self.calibration.made_at

    async def _set_profile(self, profile: str) -> None:
        """Serve `profile` from now on: its own calibration, told in a `calibrated` event."""
        if profile != self.profile:
            self._end_resting()  # a resting face collected for another profile is not this one's
            self.profile = profile
            self._use_calibration(None)
            if self.store is not None:
                await asyncio.to_thread(self.store.adopt_listener, OLD_SHARED_PROFILE, profile)
            await self._load_calibration()
            # The mood of this moment is journaled from now on, and for this profile.
            await self._journal_update()
        await self.send(Calibrated(since=self._calibrated_since))

    async def _load_calibration(self) -> None:
        if self.store is None or self.profile is None:
            return
        saved = await asyncio.to_thread(self.store.calibration, self.profile)
        if saved is None:
            return
        try:
            self._use_calibration(Calibration.from_json(saved))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring a saved calibration that cannot be read: %s", exc)

    def _use_calibration(self, calibration: Calibration | None) -> None:
        self.calibration = calibration
        if self.watcher is not None:
            self.watcher.pipeline.calibration = calibration

    async def _calibrate(self) -> None:
        if self.profile is None:
            await self._error(
                "bad_message",
                "calibrate came before set_profile, so the host does not know whose "
                "calibration to make: the extension and the moodtune program differ in version. "
                "Install moodtune again, then reload the extension.",
            )
            return
        if self.watcher is None or self.state not in ("camera", "error"):
            await self._error(
                "calibration_needs_camera",
                "Calibrating needs the camera: turn it on, then calibrate again.",
            )
            return
        if self._resting is not None:
            return  # already collecting; its progress and result are on their way
        self._resting, self._progress_sent = RestingFace(), 0.0
        self._resting_deadline = self._loop.call_later(
            CALIBRATION_DEADLINE_S, lambda: self._spawn(self._finish_calibration())
        )
        await self.send(CalibrationProgress(progress=0.0, seconds=CALIBRATION_S))

    def _resting_frame(self, result: FrameResult) -> None:
        """On the loop, for each frame processed while calibrating."""
        resting = self._resting
        if resting is None:
            return
        resting.add(result.timestamp, result.box, result.raw)
        if resting.done:
            self._spawn(self._finish_calibration())
        elif resting.progress - self._progress_sent >= 0.1:
            self._progress_sent = resting.progress
            progress = round(resting.progress, 2)
            self._spawn(self.send(CalibrationProgress(progress=progress, seconds=CALIBRATION_S)))

    def _end_resting(self) -> RestingFace | None:
        resting, self._resting = self._resting, None
        if self._resting_deadline is not None:
            self._resting_deadline.cancel()
            self._resting_deadline = None
        return resting

    async def _finish_calibration(self) -> None:
        resting = self._end_resting()
        if resting is None:
            return
        try:
            calibration = resting.finish(time.time())
        except CalibrationError as exc:
            await self._error(exc.code, str(exc))
            return
        self._use_calibration(calibration)
        if self.store is not None and self.profile is not None:
            await asyncio.to_thread(
                self.store.save_calibration,
                self.profile,
                calibration.to_json(),
                calibration.made_at,
            )
        await self.send(CalibrationProgress(progress=1.0, seconds=CALIBRATION_S))
        await self.send(Calibrated(since=calibration.made_at))

    async def _reset_calibration(self) -> None:
        self._end_resting()
        self._use_calibration(None)
        if self.store is not None and self.profile is not None:
            await asyncio.to_thread(self.store.forget_calibration, self.profile)
        await self.send(Calibrated(since=None))

    # The listener: the mood journal (kept in the store; it never leaves the machine)

    # Until `set_profile`, nothing is journaled: the host does not know whose journal it would be,
    # and a guess would put one person's moods in another's journal. The extension sends
    # set_profile first thing after hello, and the camera starts only after hello, so no camera
    # mood comes before it; a mood chosen by hand in that moment (or kept from before) is
    # journaled from set_profile on, and a track whose `played` came before it is not journaled
    # (a host from before profiles that never hears set_profile journals nothing).
    def _journal_now(self) -> tuple[str, Emotion, JournalSource, float] | None:
        """The mood the journal should be in now, and whose: by hand, or the camera's while it
        watches."""
        if self.profile is None:
            return None
        if self.override is not None:
            return self.profile, self.override, "hand", 1.0
        mood = self.camera_mood
        if self.watcher is not None and mood is not None and mood.emotion is not None:
            return self.profile, mood.emotion, "camera", mood.confidence
        return None

    async def _journal_update(self) -> None:
        """End the journal's mood if it changed (or is now another profile's), and start the new
        one."""
        if self.store is None:
            return
        now = self._journal_now()
        key = None if now is None else now[:3]
        async with self._journal_lock:
            if key == self._journal_entry:
                return
            at = time.time()
            if self._journal_id is not None:
                await asyncio.to_thread(self.store.extend_mood, self._journal_id, at)
            self._journal_entry, self._journal_id = key, None
            if now is not None:
                profile, emotion, source, confidence = now
                self._journal_id = await asyncio.to_thread(
                    self.store.start_mood, profile, emotion, round(confidence, 4), source, at
                )

    async def _touch_journal(self) -> None:
        while True:
            await asyncio.sleep(JOURNAL_TOUCH_S)
            async with self._journal_lock:
                if self.store is not None and self._journal_id is not None:
                    await asyncio.to_thread(self.store.extend_mood, self._journal_id)

    async def _journal_played(self, video_id: str) -> None:
        if self.store is None or self.profile is None:
            return  # see _journal_now
        info = self._offered.get(video_id)
        await asyncio.to_thread(
            self.store.add_played,
            self.profile,
            video_id,
            info.title if info else "",
            info.artists if info else (),
            self.emotion or STARTING_EMOTION,
        )

    async def _journal_store(self, asked: str) -> tuple[Store, str] | None:
        """The store and whose journal to answer `asked` from, or None after telling why not."""
        if self.store is None:
            await self._error(
                "journal_error", "This session keeps no journal (it was started without a store)."
            )
            return None
        if self.profile is None:
            await self._error(
                "journal_error",
                f"{asked} came before set_profile, so the host does not know whose journal it "
                "is: the extension and the moodtune program differ in version. Install moodtune "
                "again, then reload the extension.",
            )
            return None
        return self.store, self.profile

    async def _send_journal(self, since: float | None, until: float | None) -> None:
        found = await self._journal_store("get_journal")
        if found is None:
            return
        store, profile = found
        until = time.time() if until is None else until
        since = until - JOURNAL_DEFAULT_DAYS * 86400 if since is None else since
        journal = await asyncio.to_thread(store.journal, profile, since, until)
        moods = tuple(
            JournalMood(
                emotion=m.emotion,
                confidence=m.confidence,
                source=m.source,
                start=m.started_at,
                end=m.ended_at,
            )
            for m in journal.moods
        )
        tracks = tuple(
            JournalTrack(
                video_id=t.video_id, title=t.title, artists=t.artists, emotion=t.emotion, at=t.at
            )
            for t in journal.tracks
        )
        await self.send(
            JournalEvent(
                since=since,
                until=until,
                moods=moods,
                tracks=tracks,
                retention_days=journal.retention_days,
            )
        )

    async def _export_journal(self) -> None:
        found = await self._journal_store("export_journal")
        if found is None:
            return
        store, profile = found
        text = await asyncio.to_thread(store.journal_csv, profile)
        parts = [text[i : i + EXPORT_PART_CHARS] for i in range(0, len(text), EXPORT_PART_CHARS)]
        for index, part in enumerate(parts):
            await self.send(JournalExport(part=index, parts=len(parts), csv=part))

    async def _delete_journal(self) -> None:
        found = await self._journal_store("delete_journal")
        if found is None:
            return
        store, profile = found
        async with self._journal_lock:
            await asyncio.to_thread(store.forget_listener, profile)
            # This moment's mood is not written again: the journal starts at the next one.
            self._journal_id = None
        self._end_resting()
        self._use_calibration(None)
        await self.send(Calibrated(since=None))
        await self.send(JournalDeleted())

    async def _set_retention(self, days: int) -> None:
        found = await self._journal_store("set_retention")
        if found is None:
            return
        store, profile = found
        await asyncio.to_thread(store.set_journal_retention, profile, days)
        await self._send_journal(None, None)


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
