"""A listener's own resting face: the offsets that keep it from reading as sad, angry, ...

A person's resting face is not FER-2013's average neutral face: the model reads some people's
usual face as sad or angry all day. A calibration is made from a few seconds of the listener's
resting face. For every expression the resting face reads as more likely than RESTING_MARGIN
below neutral (in log-probability, relative to neutral), that excess is pushed down on every
later reading, times STRENGTH, and never by more than CAP, so no expression can be pushed out
entirely. Expressions the resting face already reads as unlikely are left alone: someone whose
resting face reads as neutral gets no change at all.

The constants were chosen with `python -m training evaluate --data <faces_by_person>
--per-person --json` (228 people, each neutral photo scored with a calibration from the same
person's other neutral photos; a noisy set of news photos, so round values on a plateau were
taken, not the best cell). Accuracy went from 47.3% to 50.3%, and none of the 41 people whose
neutral photos were all read as neutral lost accuracy. Also raising the expressions the
resting face reads as unlikely (the "subtle angry face" case) lowered accuracy there, and hurt
4 to 9 of those 41 people, so it is not done.

A calibration happens in the open: RestingFace collects CALIBRATION_S of frames and refuses
(CalibrationError) when no face was seen, the face moved or left the picture, or the "resting"
face was a smile or surprise, which would teach the calibration to ignore real joy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from host.vision.faces import Box
from host.vocabulary import EMOTIONS, ErrorCode

NEUTRAL = EMOTIONS.index("neutral")
# log(0) guard: the int8 model's smallest step is 1/256, so this is below any real reading.
LOG_FLOOR = 1e-4
RESTING_MARGIN = 1.0  # nats: after calibration the resting face reads neutral by e:1 or more
STRENGTH = 1.0  # share of the resting face's excess that is pushed down
CAP = 2.0  # nats: no expression is ever pushed down by more than e^2 (7.4 times)

CALIBRATION_S = 5.0
# The listener's time: the collection, then a little for a video or camera that stalls.
CALIBRATION_DEADLINE_S = 6.0
MIN_FACE_SHARE = 0.6  # of the frames in the collection, with a face in them
MIN_FACE_FRAMES = 5
# The face's centre may wander this share of its width (90th percentile) and still be at rest.
MAX_WANDER = 0.25
# A resting face is rarely read as happy or surprised (on faces_by_person 1% of neutral photos
# read happy at 0.6 or more, surprise at 0.54): one that is, was smiling.
STRONG_EXPRESSIONS = (EMOTIONS.index("happy"), EMOTIONS.index("surprise"))
STRONG_EXPRESSION_P = 0.6


class CalibrationError(ValueError):
    """The resting face could not be used; `code` says why, the message what to do."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def log_relative(probabilities: np.ndarray) -> np.ndarray:
    """log p(class) - log p(neutral), for one reading (7,) or many (N, 7)."""
    logs = np.log(np.asarray(probabilities, np.float64) + LOG_FLOOR)
    return logs - logs[..., NEUTRAL : NEUTRAL + 1]


@dataclass(frozen=True)
class Calibration:
    """Log-space amounts to take off each expression (EMOTIONS order; 0 for neutral)."""

    offsets: np.ndarray
    made_at: float  # epoch seconds
    frames: int = 0

    @classmethod
    def from_resting(
        cls,
        probabilities: np.ndarray,
        made_at: float,
        strength: float = STRENGTH,
        cap: float = CAP,
        margin: float = RESTING_MARGIN,
    ) -> Calibration:
        """The calibration for these readings (N, 7) of a resting face."""
        readings = np.atleast_2d(np.asarray(probabilities, np.float64))
        excess = log_relative(readings).mean(axis=0) + margin
        offsets = np.minimum(strength * np.maximum(excess, 0.0), cap)
        offsets[NEUTRAL] = 0.0
        return cls(offsets, made_at, len(readings))

    def apply(self, probabilities: np.ndarray) -> np.ndarray:
        """The calibrated probabilities for one reading (7,) or many (N, 7); each sums to 1."""
        logs = np.log(np.asarray(probabilities, np.float64) + LOG_FLOOR) - self.offsets
        shifted = np.exp(logs - logs.max(axis=-1, keepdims=True))
        return shifted / shifted.sum(axis=-1, keepdims=True)

    def to_json(self) -> dict:
        return {
            "offsets": [round(float(x), 6) for x in self.offsets],
            "made_at": self.made_at,
            "frames": self.frames,
        }

    @classmethod
    def from_json(cls, data: dict) -> Calibration:
        offsets = np.asarray(data["offsets"], np.float64)
        if offsets.shape != (len(EMOTIONS),) or not np.isfinite(offsets).all():
            raise ValueError(f"a calibration has {len(EMOTIONS)} finite offsets, not {offsets}")
        return cls(np.clip(offsets, 0.0, CAP), float(data["made_at"]), int(data["frames"]))


@dataclass
class RestingFace:
    """The frames of one calibration as they arrive; `finish` makes the calibration."""

    seconds: float = CALIBRATION_S
    started_at: float | None = None  # the first frame's timestamp (seconds; the camera's clock)
    frames: int = 0
    boxes: list[Box] = field(default_factory=list)
    readings: list[np.ndarray] = field(default_factory=list)
    last_at: float = 0.0

    def add(self, timestamp: float, box: Box | None, probabilities: np.ndarray | None) -> None:
        """One processed frame (no face: box and probabilities None)."""
        if self.started_at is None:
            self.started_at = timestamp
        self.frames += 1
        self.last_at = timestamp
        if box is not None and probabilities is not None:
            self.boxes.append(box)
            self.readings.append(np.asarray(probabilities, np.float64))

    @property
    def progress(self) -> float:
        """0 → 1 over the collection."""
        if self.started_at is None:
            return 0.0
        return min(1.0, max(0.0, (self.last_at - self.started_at) / self.seconds))

    @property
    def done(self) -> bool:
        return self.progress >= 1.0

    def finish(self, made_at: float) -> Calibration:
        """The calibration; raises CalibrationError saying what to do differently."""
        faces = len(self.readings)
        if faces < MIN_FACE_FRAMES:
            raise CalibrationError(
                "calibration_no_face",
                "No face was seen while calibrating. Sit facing the camera in your usual light, "
                "then try again.",
            )
        if faces < MIN_FACE_SHARE * self.frames or _wander(self.boxes) > MAX_WANDER:
            raise CalibrationError(
                "calibration_unsteady",
                "Your face moved too much while calibrating. Keep still and look at the screen "
                "for 5 seconds, then try again.",
            )
        mean = np.mean(self.readings, axis=0)
        if max(mean[i] for i in STRONG_EXPRESSIONS) >= STRONG_EXPRESSION_P:
            strongest = EMOTIONS[max(STRONG_EXPRESSIONS, key=lambda i: mean[i])]
            raise CalibrationError(
                "calibration_expression",
                f"Your face looked {_adjective(strongest)} while calibrating, not at rest: "
                "try again with your usual face.",
            )
        return Calibration.from_resting(np.array(self.readings), made_at)


def _wander(boxes: list[Box]) -> float:
    """How far the face's centre strays from where it usually is, in face widths (90th pct)."""
    centres = np.array([(b.x + b.w / 2, b.y + b.h / 2) for b in boxes], np.float64)
    width = float(np.median([b.w for b in boxes]))
    distances = np.linalg.norm(centres - np.median(centres, axis=0), axis=1)
    return float(np.quantile(distances, 0.9)) / max(width, 1.0)


def _adjective(emotion: str) -> str:
    return {"happy": "happy (a smile)", "surprise": "surprised"}.get(emotion, emotion)
