"""Build camera-like videos from real face crops, with a timeline of which expression is shown.

    python -m training make-video --data ../shared/datasets/fer2013/val --out sample.mp4
    python -m training make-video ... --out raw.avi --size 1280x720 --fps 30 --codec I420

Each face is upscaled into a frame (640x480 at 10 fps unless asked otherwise) over a plain
background and held for a few seconds, with a slow drift, sensor noise and flicker, so the host's
face finder, model and mood tracker run as they would on a webcam; the face keeps its share of
the frame's height at any size. `--codec I420` writes uncompressed YUV like a webcam's raw
stream, `MJPG` motion JPEG like a compressed one. The timeline (`<out>.json`) records when each
face starts: the ground truth for mood latency and false-switch measurements. `--empty S` adds S
seconds of the bare backdrop after the first face (a listener who left the desk).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from training.data import LABELS, image_files, read_gray

FRAME_SIZE = (640, 480)
FPS = 10.0
CODEC = "mp4v"
FACE_PX = 170  # side of the face crop once upscaled in a 480-line frame (at arm's length)
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


def background(rng: np.random.Generator, size: tuple[int, int] = FRAME_SIZE) -> np.ndarray:
    """A smooth, slightly textured grayscale backdrop (no face-like structure).

    It is drawn at FRAME_SIZE and scaled, so one seed gives the same faces at every size.
    """
    width, height = FRAME_SIZE
    ramp = np.linspace(90, 150, width, dtype=np.float32)[None, :].repeat(height, 0)
    blobs = cv2.GaussianBlur(rng.normal(0, 25, (height, width)).astype(np.float32), (0, 0), 25)
    backdrop = ramp + blobs
    return backdrop if size == FRAME_SIZE else cv2.resize(backdrop, size)


def face_patch(face: np.ndarray, face_px: int = FACE_PX) -> tuple[np.ndarray, np.ndarray]:
    """The crop with some replicated context, upscaled, and a feathered alpha mask for it."""
    pad = round(face.shape[0] * CONTEXT)
    padded = cv2.copyMakeBorder(face, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    side = round(face_px * (1 + 2 * CONTEXT))
    patch = cv2.resize(padded, (side, side), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    sharp = np.zeros((side, side), np.float32)
    edge = round(side * CONTEXT * 0.5)
    sharp[edge:-edge, edge:-edge] = 1.0
    return patch, cv2.GaussianBlur(sharp, (0, 0), edge / 2)


def render(
    base: np.ndarray,
    patch: np.ndarray | None,
    mask: np.ndarray | None,
    center,
    rng: np.random.Generator,
) -> np.ndarray:
    """One BGR frame: the patch (if any) blended onto the backdrop at `center`, plus noise and
    flicker."""
    frame = base.copy()
    if patch is not None and mask is not None:
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
    data_dir: str | Path,
    out: str | Path,
    faces: int = 8,
    seconds: float = 3.0,
    seed: int = 0,
    size: tuple[int, int] = FRAME_SIZE,
    fps: float = FPS,
    codec: str = CODEC,
    empty_s: float = 0.0,
    empty_after: int = 1,
) -> list[Segment]:
    """Write the video and its timeline JSON; returns the timeline.

    With `empty_s`, the bare backdrop is shown for that long after the first `empty_after`
    faces (at the end, with no more faces); it is in the timeline as emotion "none".
    """
    rng = np.random.default_rng(seed)
    shown: list[tuple[Path, int] | None] = list(choose_faces(Path(data_dir), faces, rng))
    if empty_s:
        shown.insert(min(empty_after, len(shown)), None)
    return write_video(shown, out, seconds, rng, size=size, fps=fps, codec=codec, empty_s=empty_s)


def write_video(
    faces: Sequence[tuple[Path, int] | None],
    out: str | Path,
    seconds: float,
    rng: np.random.Generator,
    notes: dict | None = None,
    size: tuple[int, int] = FRAME_SIZE,
    fps: float = FPS,
    codec: str = CODEC,
    empty_s: float = 0.0,
) -> list[Segment]:
    """Write `faces` (path, label index; None: nobody, for `empty_s`), each held `seconds`, and
    the timeline JSON (with `notes` added to it); returns the timeline."""
    if len(codec) != 4:
        raise ValueError(f"a codec is four characters (I420, MJPG, mp4v), not {codec!r}")
    out = Path(out)
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*codec), fps, size)
    if not writer.isOpened():
        raise RuntimeError(f"cannot write video {out} with codec {codec}")
    timeline = []
    for frames_of_face, segment in zip(
        face_frames(faces, seconds, rng, size, fps, empty_s),
        faces_timeline(faces, seconds, fps, empty_s),
        strict=True,
    ):
        for frame in frames_of_face:
            writer.write(frame)
        timeline.append(segment)
    writer.release()
    data = {"fps": fps, "segments": [asdict(s) for s in timeline], **(notes or {})}
    Path(f"{out}.json").write_text(json.dumps(data, indent=1) + "\n")
    return timeline


def faces_timeline(
    faces: Sequence[tuple[Path, int] | None],
    seconds: float,
    fps: float = FPS,
    empty_s: float = 0.0,
) -> list[Segment]:
    """When each face (or nobody, None, for `empty_s`) shows in a video of `faces`."""
    timeline, start = [], 0
    for face in faces:
        frames = round((seconds if face is not None else empty_s) * fps)
        emotion, source = (LABELS[face[1]], face[0].name) if face is not None else ("none", "")
        timeline.append(Segment(start / fps, (start + frames) / fps, emotion, source))
        start += frames
    return timeline


def face_frames(
    faces: Sequence[tuple[Path, int] | None],
    seconds: float,
    rng: np.random.Generator,
    size: tuple[int, int] = FRAME_SIZE,
    fps: float = FPS,
    empty_s: float = 0.0,
) -> Iterator[list[np.ndarray]]:
    """For each face, its frames (BGR): held `seconds`, drifting over one backdrop (None: the
    backdrop alone for `empty_s`). The face keeps its share of the frame's height at any size."""
    face_px = round(FACE_PX * size[1] / FRAME_SIZE[1])
    base = background(rng, size)
    center = np.array([size[0] / 2, size[1] / 2 - 10 * size[1] / FRAME_SIZE[1]])
    margin = face_px * (0.5 + CONTEXT) + 10
    for face in faces:
        patch, mask = face_patch(read_gray(face[0]), face_px) if face is not None else (None, None)
        frames = []
        for _ in range(round((seconds if face is not None else empty_s) * fps)):
            center += rng.normal(0, DRIFT_PX, 2)
            center = np.clip(center, margin, np.array(size) - margin)
            frames.append(render(base, patch, mask, center, rng))
        yield frames


def read_timeline(video: str | Path) -> list[Segment]:
    """The timeline written next to a video by make_video."""
    data = json.loads(Path(f"{video}.json").read_text())
    return [Segment(**s) for s in data["segments"]]
