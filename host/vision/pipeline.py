"""Frame → face → emotion → calibration → mood: the per-frame work, and the thread that runs it
live.

A face that cannot be read (too dark, washed out: see quality.py; or turned away, seen only in
profile: see faces.py) is not read: the model is not run and the mood tracker not fed, so the
mood stays as it was, and the result says why. A turned face still counts as someone there.
With nobody in view for `away_after_s`, the watcher is "away": it looks for a face AWAY_FPS
times a second (every frame it takes is searched, on a smaller copy), and is back at its full
rate on the first frame with a face.
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
    NO_FACE_DETECT_EVERY,
    Box,
    FaceFinder,
    crop_face,
    to_gray,
)
from host.vision.mood import Mood, MoodTracker
from host.vision.quality import face_quality, lift_dim_face, scene_quality
from host.vocabulary import FrameQuality

log = logging.getLogger(__name__)

DEFAULT_FPS = 10.0
AWAY_AFTER_S = 60.0
AWAY_FPS = 2.0


@dataclass(frozen=True)
class FrameResult:
    timestamp: float
    box: Box | None
    probabilities: np.ndarray | None  # what the mood tracker read: calibrated, EMOTIONS order
    mood: Mood | None  # set only when the mood changed on this frame
    raw: np.ndarray | None = None  # the model's own output (what a calibration is made from)
    quality: FrameQuality = "ok"  # with a face: can it be read; without: can one be found


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

    def reset(self) -> None:
        self.finder.reset()
        self.tracker.reset()

    def process(
        self, image: np.ndarray, timestamp: float, levels: np.ndarray | None = None
    ) -> FrameResult:
        """Find the primary face in a BGR or gray frame, read its emotion, update the mood.
        `levels` maps a video-range grey picture's levels to full range (camera.FULL_RANGE)."""
        gray = to_gray(image)
        box = self.finder.find(gray)
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
            return FrameResult(timestamp, box, None, None, quality=quality)
        raw = probabilities = self.model.predict(lift_dim_face(crop))
        calibration = self.calibration
        if calibration is not None:
            probabilities = calibration.apply(raw)
        return FrameResult(
            timestamp, box, probabilities, self.tracker.update(timestamp, probabilities), raw
        )


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
        self.period = 1.0 / fps
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
            period = 1.0 / AWAY_FPS if self.away else self.period
            next_due = max(next_due + period, time.monotonic())
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
        finder.scan_every = 1 if away else NO_FACE_DETECT_EVERY
        finder.detect_width = AWAY_DETECT_WIDTH if away else DETECT_WIDTH
        self.on_away(away)
