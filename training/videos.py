"""Build camera-like videos from real face crops, with a timeline of which expression is shown.

    python -m training make-video --data ../shared/datasets/fer2013/val --out sample.mp4

Each face is upscaled into a 640x480 frame over a plain background and held for a few seconds,
with a slow drift, sensor noise and flicker, so the host's face finder, model and mood tracker
run as they would on a webcam. The timeline (`<out>.json`) records when each face starts: the
ground truth for mood latency and false-switch measurements.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from training.data import LABELS, image_files, read_gray

FRAME_SIZE = (640, 480)
FPS = 10.0
FACE_PX = 170  # side of the face crop once upscaled (a face at arm's length from a webcam)
CONTEXT = 0.25  # replicated border around the crop, as a fraction of its side
DRIFT_PX = 2.0  # standard deviation of the per-frame head drift
NOISE_SIGMA = 3.0
FLICKER = 0.03  # relative brightness flicker


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float
    emotion: str
    source: str


def background(rng: np.random.Generator) -> np.ndarray:
    """A smooth, slightly textured grayscale backdrop (no face-like structure)."""
    width, height = FRAME_SIZE
    ramp = np.linspace(90, 150, width, dtype=np.float32)[None, :].repeat(height, 0)
    blobs = cv2.GaussianBlur(rng.normal(0, 25, (height, width)).astype(np.float32), (0, 0), 25)
    return ramp + blobs


def face_patch(face: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The crop with some replicated context, upscaled, and a feathered alpha mask for it."""
    pad = round(face.shape[0] * CONTEXT)
    padded = cv2.copyMakeBorder(face, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    side = round(FACE_PX * (1 + 2 * CONTEXT))
    patch = cv2.resize(padded, (side, side), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    sharp = np.zeros((side, side), np.float32)
    edge = round(side * CONTEXT * 0.5)
    sharp[edge:-edge, edge:-edge] = 1.0
    return patch, cv2.GaussianBlur(sharp, (0, 0), edge / 2)


def render(
    base: np.ndarray, patch: np.ndarray, mask: np.ndarray, center, rng: np.random.Generator
) -> np.ndarray:
    """One BGR frame: the patch blended onto the backdrop at `center`, plus noise and flicker."""
    frame = base.copy()
    side = patch.shape[0]
    x0, y0 = round(center[0] - side / 2), round(center[1] - side / 2)
    region = frame[y0 : y0 + side, x0 : x0 + side]
    region += mask * (patch - region)
    frame *= 1 + rng.normal(0, FLICKER)
    frame += rng.normal(0, NOISE_SIGMA, frame.shape)
    gray = np.clip(frame, 0, 255).astype(np.uint8)
    return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)


def choose_faces(data_dir: Path, count: int, rng: np.random.Generator) -> list[tuple[Path, int]]:
    """`count` faces, cycling through the labels present so consecutive faces differ."""
    by_label: dict[int, list[Path]] = {}
    for path, label in image_files(data_dir):
        by_label.setdefault(label, []).append(path)
    labels = sorted(by_label)
    chosen, last = [], None
    for _ in range(count):
        label = rng.choice([lab for lab in labels if lab != last] or labels)
        chosen.append((by_label[label][rng.integers(len(by_label[label]))], int(label)))
        last = label
    return chosen


def make_video(
    data_dir: str | Path, out: str | Path, faces: int = 8, seconds: float = 3.0, seed: int = 0
) -> list[Segment]:
    """Write the video and its timeline JSON; returns the timeline."""
    rng = np.random.default_rng(seed)
    return write_video(choose_faces(Path(data_dir), faces, rng), out, seconds, rng)


def write_video(
    faces: list[tuple[Path, int]],
    out: str | Path,
    seconds: float,
    rng: np.random.Generator,
    notes: dict | None = None,
) -> list[Segment]:
    """Write `faces` (path, label index), each held `seconds`, and the timeline JSON (with
    `notes` added to it); returns the timeline."""
    out = Path(out)
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"mp4v"), FPS, FRAME_SIZE)
    if not writer.isOpened():
        raise RuntimeError(f"cannot write video {out}")
    timeline, frame_index = [], 0
    for frames_of_face, segment in zip(
        face_frames(faces, seconds, rng), faces_timeline(faces, seconds), strict=True
    ):
        for frame in frames_of_face:
            writer.write(frame)
            frame_index += 1
        timeline.append(segment)
    writer.release()
    data = {"fps": FPS, "segments": [asdict(s) for s in timeline], **(notes or {})}
    Path(f"{out}.json").write_text(json.dumps(data, indent=1) + "\n")
    return timeline


def faces_timeline(faces: list[tuple[Path, int]], seconds: float) -> list[Segment]:
    """When each face shows in a video of `faces` held `seconds` each."""
    frames = round(seconds * FPS)
    return [
        Segment(i * frames / FPS, (i + 1) * frames / FPS, LABELS[label], path.name)
        for i, (path, label) in enumerate(faces)
    ]


def face_frames(faces: list[tuple[Path, int]], seconds: float, rng: np.random.Generator):
    """For each face, its frames (BGR): held `seconds`, drifting over one backdrop."""
    base = background(rng)
    center = np.array([FRAME_SIZE[0] / 2, FRAME_SIZE[1] / 2 - 10])
    margin = FACE_PX * (0.5 + CONTEXT) + 10
    for path, _ in faces:
        patch, mask = face_patch(read_gray(path))
        frames = []
        for _ in range(round(seconds * FPS)):
            center += rng.normal(0, DRIFT_PX, 2)
            center = np.clip(center, margin, np.array(FRAME_SIZE) - margin)
            frames.append(render(base, patch, mask, center, rng))
        yield frames


def read_timeline(video: str | Path) -> list[Segment]:
    """The timeline written next to a video by make_video."""
    data = json.loads(Path(f"{video}.json").read_text())
    return [Segment(**s) for s in data["segments"]]
