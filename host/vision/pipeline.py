"""Frame → face → emotion → calibration → mood: the per-frame work, and the thread that runs it
live.

A face that cannot be read (too dark, washed out: see quality.py; or turned away, seen only in
profile: see faces.py) is not read: the model is not run and the mood tracker not fed, so the
mood stays as it was, and the result says why. A turned face still counts as someone there.

How often a frame is read depends on what the last one showed (`frame_period`):
- a face that moves, reads differently from the frame before, or leads away from the mood:
  DEFAULT_FPS, so a change of expression is told within the latency budget;
- a face holding still, read alike for STEADY_AFTER_FRAMES frames, its mood settled (a listener
  at work, most of the day): STEADY_FPS. The first frame that breaks this brings the full rate
  back, so a change is noticed at most one steady period later and then followed at full speed;
  every frame read is still read by the model, so a slow change is seen, not missed;
- no face: SEARCH_FPS, each frame searched in full, unless the scene has not changed since
  searches found nothing in it (see faces.py);
- nobody in view for `away_after_s`: the watcher is "away", AWAY_FPS, searched the same way on a
  smaller copy, until the first frame with a face.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from host.vision.calibration import Calibration
from host.vision.camera import Camera, Frame
from host.vision.emotion import EmotionModel
from host.vision.faces import (
    AWAY_DETECT_WIDTH,
    DETECT_WIDTH,
    Box,
    FaceFinder,
    crop_face,
    to_gray,
)
from host.vision.mood import Mood, MoodTracker
from host.vision.quality import face_quality, lift_dim_face, scene_quality
from host.vocabulary import FrameQuality

log = logging.getLogger(__name__)

DEFAULT_FPS = 10.0  # a face in view: moving, changing, or a mood not yet settled
STEADY_FPS = 5.0  # a face holding still, read alike, its mood settled
SEARCH_FPS = 10 / 3  # no face in view: a face that comes into view is found within ~0.3 s
AWAY_AFTER_S = 60.0
AWAY_FPS = 2.0  # nobody in view for AWAY_AFTER_S: searched on a smaller copy too
STEADY_AFTER_FRAMES = 3  # steady frames in a row before the rate drops
STEADY_READING_STEP = 0.1  # a steady reading moves no probability further from one frame
STEADY_MOVE = 0.1  # a steady face's box moves less than this share of its width a frame


@dataclass(frozen=True)
class FrameResult:
    timestamp: float
    box: Box | None
    probabilities: np.ndarray | None  # what the mood tracker read: calibrated, EMOTIONS order
    mood: Mood | None  # set only when the mood changed on this frame
    raw: np.ndarray | None = None  # the model's own output (what a calibration is made from)
    quality: FrameQuality = "ok"  # with a face: can it be read; without: can one be found
    steady: bool = False  # a still face, read alike for a while, its mood settled


def frame_period(result: FrameResult, fps: float = DEFAULT_FPS, away: bool = False) -> float:
    """Seconds from this frame to the next one read: the away, search, steady or full rate's
    period (`fps`: the full rate; no other is faster)."""
    if away:
        rate = AWAY_FPS
    elif result.box is None:
        rate = SEARCH_FPS
    else:
        rate = STEADY_FPS if result.steady else fps
    return 1.0 / min(rate, fps)


class FacePipeline:
    """Everything done to one frame; keeps the face and mood state between frames."""

    def __init__(
        self,
        model: EmotionModel,
        finder: FaceFinder | None = None,
        calibration: Calibration | None = None,
    ) -> None:
        # On these small images OpenCV's thread pool costs more CPU than it saves, and a
        # background helper should leave the other cores to the listener's work.
        cv2.setNumThreads(1)
        self.model = model
        self.finder = finder or FaceFinder()
        self.tracker = MoodTracker()
        # Replaced whole from the session's thread; this one reads it once per frame.
        self.calibration = calibration
        self._last_read: tuple[Box, np.ndarray] | None = None  # the box and reading before
        self._steady_frames = 0

    def reset(self) -> None:
        self.finder.reset()
        self.tracker.reset()
        self._last_read, self._steady_frames = None, 0

    def process(
        self, image: np.ndarray, timestamp: float, levels: np.ndarray | None = None
    ) -> FrameResult:
        """Find the primary face in a BGR or gray frame, read its emotion, update the mood.
        `levels` maps a video-range grey picture's levels to full range (camera.FULL_RANGE)."""
        gray = to_gray(image)
        box = self.finder.find(gray)
        if box is None or self.finder.turned:
            self._last_read, self._steady_frames = None, 0
        if box is None:
            quality = scene_quality(gray, levels)
            # In the dark no face is found, but that says nothing of whether one is there.
            mood = self.tracker.update(timestamp, None) if quality == "ok" else None
            return FrameResult(timestamp, None, None, mood, quality=quality)
        if self.finder.turned:
            return FrameResult(timestamp, box, None, None, quality="face_turned")
        crop = crop_face(gray, box, margin=self.model.contract.crop_margin)
        if levels is not None:
            crop = cv2.LUT(crop, levels)
        quality = face_quality(crop)
        if quality != "ok":
            self._last_read, self._steady_frames = None, 0
            return FrameResult(timestamp, box, None, None, quality=quality)
        raw = probabilities = self.model.predict(lift_dim_face(crop))
        calibration = self.calibration
        if calibration is not None:
            probabilities = calibration.apply(raw)
        mood = self.tracker.update(timestamp, probabilities)
        steady = self._follow_steadiness(box, raw, mood is None)
        return FrameResult(timestamp, box, probabilities, mood, raw, steady=steady)

    def _follow_steadiness(self, box: Box, raw: np.ndarray, unchanged: bool) -> bool:
        """Whether the face has been steady for STEADY_AFTER_FRAMES frames, this one included:
        the box barely moved, the reading barely changed, and the mood is settled on its lead."""
        last, self._last_read = self._last_read, (box, raw)
        still = (
            last is not None
            and unchanged
            and self.tracker.settled
            and _box_move(last[0], box) < STEADY_MOVE
            and float(np.abs(raw - last[1]).max()) < STEADY_READING_STEP
        )
        self._steady_frames = self._steady_frames + 1 if still else 0
        return self._steady_frames >= STEADY_AFTER_FRAMES


class Watcher:
    """Runs a FacePipeline on the newest camera frame, `fps` times a second, on its own thread."""

    def __init__(
        self,
        camera: Camera,
        pipeline: FacePipeline,
        on_result: Callable[[FrameResult, Frame], None],
        on_ended: Callable[[], None] = lambda: None,
        fps: float = DEFAULT_FPS,
        away_after_s: float | None = AWAY_AFTER_S,
        on_away: Callable[[bool], None] = lambda away: None,
    ) -> None:
        self.camera, self.pipeline = camera, pipeline
        self.on_result, self.on_ended, self.on_away = on_result, on_ended, on_away
        self.fps = fps
        self.away_after_s = away_after_s  # None: never away
        self.away = False
        self._last_face_at = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop processing and release the camera (within a couple of seconds)."""
        self._stop.set()
        self.camera.close()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=2.0)

    def _run(self) -> None:
        last_index, next_due = -1, time.monotonic()
        while not self._stop.is_set():
            frame = self.camera.latest(newer_than=last_index, timeout=0.5)
            if frame is None:
                if self.camera.ended:
                    self.on_ended()
                    return
                continue
            last_index = frame.index
            try:
                result = self.pipeline.process(frame.image, frame.timestamp, frame.levels)
            except Exception:
                log.exception("frame %d could not be processed", frame.index)
                continue
            self.on_result(result, frame)
            self._follow_presence(result.box is not None, frame.timestamp)
            next_due = max(next_due + frame_period(result, self.fps, self.away), time.monotonic())
            self._stop.wait(max(0.0, next_due - time.monotonic()))

    def _follow_presence(self, face: bool, timestamp: float) -> None:
        """Go away after `away_after_s` without a face; come back on the first face."""
        if face:
            self._last_face_at = timestamp
            if self.away:
                self._set_away(False)
        elif (
            not self.away
            and self.away_after_s is not None
            and timestamp - self._last_face_at >= self.away_after_s
        ):
            self._set_away(True)

    def _set_away(self, away: bool) -> None:
        self.away = away
        finder = self.pipeline.finder
        finder.detect_width = AWAY_DETECT_WIDTH if away else DETECT_WIDTH
        self.on_away(away)


def _box_move(before: Box, after: Box) -> float:
    """How far a box moved or changed size, as a share of its width."""
    shift = max(abs(after.x - before.x), abs(after.y - before.y), abs(after.w - before.w))
    return shift / max(before.w, 1)
