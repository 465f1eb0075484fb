"""Frame → face → emotion → calibration → mood: the per-frame work, and the thread that runs it
live."""

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
from host.vision.faces import Box, FaceFinder, crop_face, to_gray
from host.vision.mood import Mood, MoodTracker

log = logging.getLogger(__name__)

DEFAULT_FPS = 10.0


@dataclass(frozen=True)
class FrameResult:
    timestamp: float
    box: Box | None
    probabilities: np.ndarray | None  # what the mood tracker read: calibrated, EMOTIONS order
    mood: Mood | None  # set only when the mood changed on this frame
    raw: np.ndarray | None = None  # the model's own output (what a calibration is made from)


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

    def process(self, image: np.ndarray, timestamp: float) -> FrameResult:
        """Find the primary face in a BGR or gray frame, read its emotion, update the mood."""
        gray = to_gray(image)
        box = self.finder.find(gray)
        raw = probabilities = None
        if box is not None:
            crop = crop_face(gray, box, margin=self.model.contract.crop_margin)
            raw = probabilities = self.model.predict(crop)
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
    ) -> None:
        self.camera, self.pipeline = camera, pipeline
        self.on_result, self.on_ended = on_result, on_ended
        self.period = 1.0 / fps
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
                result = self.pipeline.process(frame.image, frame.timestamp)
            except Exception:
                log.exception("frame %d could not be processed", frame.index)
                continue
            self.on_result(result, frame)
            next_due = max(next_due + self.period, time.monotonic())
            self._stop.wait(max(0.0, next_due - time.monotonic()))
