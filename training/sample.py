"""The demo's bundled sample video: real faces that the host's face finder finds and that its
model reads as the mood the timeline says, one face per mood.

    python -m training make-sample --data ../shared/datasets/fer2013/val --out host/data/sample.mp4

For each mood in SAMPLE_MOODS, candidate faces of that label (in a seeded random order) are each
rendered as a held segment, exactly as make-video renders faces, and run through the shipped
face finder and model. A candidate qualifies when the finder finds a face in nearly every frame
and the model's mean reading of the segment is its label, by a clear share; the best of the
first few that qualify is kept. The assembled video is then played through the host's whole
pipeline (finder, model, mood tracker) and every segment must show its mood; a face whose
segment does not is replaced by the next best and the video is made again. The timeline JSON
records how each face was chosen and what the pipeline showed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from host.vision.emotion import MODEL_DIR, EmotionModel
from host.vision.pipeline import FacePipeline
from host.vocabulary import EMOTIONS
from training.data import LABELS, image_files
from training.videos import FPS, face_frames, write_video

# Every mood, in an order where neighbours differ plainly.
SAMPLE_MOODS = ("happy", "sad", "surprise", "angry", "neutral", "fear", "disgust")
SECONDS = 3.0
MIN_FACE_FOUND = 0.95  # share of a segment's frames where the finder must find the face
MIN_SHARE = 0.5  # the label's mean probability over the segment
QUALIFIED_KEPT = 6  # qualifying candidates compared before the best is taken
CANDIDATES_TRIED = 120  # per mood, at most
# A segment shows its mood when the mood in effect over its second half is its label.
SHOWN_FROM = 0.5


@dataclass(frozen=True)
class Reading:
    """What the finder and model made of one candidate face's segment."""

    path: Path
    label: int
    face_found: float  # share of frames with a face
    share: float  # mean probability of the label over the frames with a face
    top: str  # the label with the highest mean probability

    @property
    def qualifies(self) -> bool:
        return (
            self.face_found >= MIN_FACE_FOUND
            and self.top == LABELS[self.label]
            and self.share >= MIN_SHARE
        )


def read_segment(model: EmotionModel, frames: list[np.ndarray]) -> tuple[float, np.ndarray | None]:
    """(share of frames with a face, mean probabilities over them) for one segment."""
    pipeline = FacePipeline(model)
    readings = [pipeline.process(frame, i / FPS).probabilities for i, frame in enumerate(frames)]
    found = [p for p in readings if p is not None]
    return len(found) / len(frames), (np.mean(found, axis=0) if found else None)


def ranked_candidates(
    model: EmotionModel, files: list[Path], label: int, rng: np.random.Generator
) -> Iterator[Reading]:
    """Qualifying readings of `files` (all of `label`), best first among each batch kept."""
    order = rng.permutation(len(files))[:CANDIDATES_TRIED]
    kept: list[Reading] = []
    for index in order:
        path = files[index]
        [frames] = face_frames([(path, label)], SECONDS, rng)
        found, mean = read_segment(model, frames)
        if mean is None:
            continue
        reading = Reading(path, label, found, float(mean[label]), EMOTIONS[int(np.argmax(mean))])
        if reading.qualifies:
            kept.append(reading)
        if len(kept) == QUALIFIED_KEPT:
            yield from sorted(kept, key=lambda r: -r.share)
            kept = []
    yield from sorted(kept, key=lambda r: -r.share)


def moods_shown(model: EmotionModel, video: Path, segments: int) -> list[str | None]:
    """Play `video` through a whole FacePipeline; the mood in effect over the second half of
    each segment (None where it changed there or was no face)."""
    import cv2

    capture = cv2.VideoCapture(str(video))
    pipeline = FacePipeline(model)
    per_frame: list[str | None] = []
    current: str | None = None
    index = 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        result = pipeline.process(frame, index / FPS)
        if result.mood is not None:
            current = result.mood.emotion
        per_frame.append(current)
        index += 1
    capture.release()
    frames = len(per_frame) // segments
    shown = []
    for segment in range(segments):
        late = per_frame[segment * frames + round(frames * SHOWN_FROM) : (segment + 1) * frames]
        shown.append(late[0] if late and all(m == late[0] for m in late) else None)
    return shown


def make_sample(
    data_dir: str | Path, out: str | Path, seed: int = 0, model_dir: str | Path = MODEL_DIR
) -> list[dict]:
    """Choose the faces, write the video and its timeline; the timeline's segments."""
    rng = np.random.default_rng(seed)
    model = EmotionModel.load(model_dir)
    by_label: dict[int, list[Path]] = {}
    for path, label in image_files(Path(data_dir)):
        by_label.setdefault(label, []).append(path)
    queues = {
        mood: ranked_candidates(model, by_label[LABELS.index(mood)], LABELS.index(mood), rng)
        for mood in SAMPLE_MOODS
    }
    chosen = {mood: _next(queues[mood], mood) for mood in SAMPLE_MOODS}
    while True:
        faces = [(chosen[m].path, chosen[m].label) for m in SAMPLE_MOODS]
        notes = _notes(data_dir, seed, model, [chosen[m] for m in SAMPLE_MOODS])
        write_video(faces, out, SECONDS, np.random.default_rng(seed), notes)
        shown = moods_shown(model, Path(out), len(SAMPLE_MOODS))
        missed = [m for m, s in zip(SAMPLE_MOODS, shown, strict=True) if s != m]
        if not missed:
            return notes["segments_chosen"]
        for mood in missed:
            chosen[mood] = _next(queues[mood], mood)


def _next(queue: Iterator[Reading], mood: str) -> Reading:
    reading = next(queue, None)
    if reading is None:
        raise SystemExit(f"make-sample: no {mood} face qualifies in the first {CANDIDATES_TRIED}")
    return reading


def _dataset_name(data_dir: str | Path) -> str:
    """'fer2013/val' for .../datasets/fer2013/val: the dataset, not this machine's folders."""
    folder = Path(data_dir).resolve()
    return f"{folder.parent.name}/{folder.name}"


def _notes(data_dir: str | Path, seed: int, model: EmotionModel, readings: list[Reading]) -> dict:
    return {
        "chosen_by": (
            f"python -m training make-sample --data <{_dataset_name(data_dir)}> --seed {seed}: "
            "for each mood, "
            f"FER-2013 faces of that label, each rendered as a {SECONDS:g} s segment, run through "
            f"the Haar face finder and {model.contract.name}; kept where the finder found the "
            f"face in at least {MIN_FACE_FOUND:.0%} of frames and the model's mean reading was "
            f"the label with at least {MIN_SHARE:.0%}; then the whole video played through the "
            "host's pipeline (finder, model, mood tracker) showed every segment's mood over its "
            "second half, or the face was replaced"
        ),
        "segments_chosen": [
            {
                "emotion": LABELS[r.label],
                "source": r.path.name,
                "face_found": round(r.face_found, 3),
                "label_share": round(r.share, 3),
            }
            for r in readings
        ],
    }
