"""A camera (device index) or a video file (played as if it were one), read on its own thread.

The pipeline reads only a frame's grey picture, and most sources carry it ready-made: a webcam's
YUV frame holds it as its first plane (or every other byte), and a JPEG decodes straight to grey,
skipping the colour planes (at half size when the frame is wide: the finder works on 240 px
copies). So the camera takes frames off the source undecoded where it can read their layout
(`packet_format`, `grey_picture`) and lifts the grey picture out itself (a YUV one in video
range, with the table that stretches it: FULL_RANGE); any other source (an H.264 file, a
webcam format not listed) is decoded by OpenCV and turned grey.

The reader takes every frame the source delivers off it (`grab()`, cheap), but reads one
(`retrieve()`) only when someone has asked for a frame, so a 30 fps webcam watched at 10 fps
costs ten reads a second, not thirty; the frame handed over is the one grabbed right after the
request, never a stale one. A webcam is asked for REQUESTED_SIZE at the rate that is needed,
and `mode` says what it gave. A device that fails is reported through `on_problem` and
reopened every RETRY_S; `close()` releases it within one read.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)

RETRY_S = 2.0
OPEN_TIMEOUT_S = 5.0
MAX_DEVICE_INDEX = 63
# Enough for a face at desk distance (the finder works on 240 px wide copies), and what nearly
# every webcam offers; left alone, many deliver 1280x720 or more, at several times the cost.
REQUESTED_SIZE = (640, 480)
MIN_REQUESTED_FPS = 15.0  # the lowest rate webcams commonly offer
JPEG_HALF_SIZE_FROM = 1280  # JPEG frames this wide or wider are decoded at half size
JPEG_MAGIC = b"\xff\xd8"
# Undecoded frame layouts, by the source's FourCC (a raw video file says its pixel format
# instead, with FourCC 0): where the grey picture is in the frame.
PLANAR_YUV = {"I420", "IYUV", "YV12", "NV12", "NV21"}  # the Y plane first, then chroma
GREY = {"Y800", "GREY"}
PACKED_YUV = {"YUY2": 0, "YUYV": 0, "YUNV": 0, "UYVY": 1}  # the byte of each pair that is Y
JPEG = {"MJPG", "JPEG"}
# YUV video keeps its luma in 16-235 ("video range"); the model was trained on full-range grey,
# which is what OpenCV's own decoding gives. The frame goes as it is (the Haar cascade and the
# face follower normalise contrast themselves) with this table, which the pipeline applies to
# the 48x48 crop only: a 720p frame's stretch would cost more than the crop's whole reading.
FULL_RANGE = np.clip(np.round((np.arange(256) - 16) * 255 / 219), 0, 255).astype(np.uint8)
VIDEO_RANGE = PLANAR_YUV | set(PACKED_YUV)


class CameraError(RuntimeError):
    """The camera or video cannot be opened; the message says which and why."""


@dataclass(frozen=True)
class CaptureMode:
    """What a source delivers: frame size and rate (0 fps when it does not say)."""

    width: int
    height: int
    fps: float

    def __str__(self) -> str:
        return f"{self.width}x{self.height} at {self.fps:g} fps"


@dataclass(frozen=True)
class Frame:
    image: np.ndarray  # grey, 2-D uint8: all the finder and the model read
    timestamp: float  # time.monotonic() when it was read
    index: int  # frames read since the source was opened
    levels: np.ndarray | None = None  # maps its grey levels to full range (None: they are)


def camera_source(value: int | str) -> int | str:
    """The one reading of "a camera index or a video file": an int device index, or a path.

    Only ASCII digits make an index: "²" and "①" pass `str.isdigit()` but are no camera's
    number, so they are read as file names (and then not found). Raises CameraError.
    """
    if isinstance(value, str):
        text = value.strip()
        if not (text.isascii() and text.isdigit()):
            if not text:
                raise CameraError("no camera given: choose a camera number or a video file")
            return value
        if len(text) > 3:
            raise CameraError(f"there is no camera number {text[:12]}")
        value = int(text)
    if isinstance(value, bool) or not 0 <= value <= MAX_DEVICE_INDEX:
        raise CameraError(f"there is no camera number {value}; use 0 to {MAX_DEVICE_INDEX}")
    return value


def open_capture(source: int | str, fps: float = MIN_REQUESTED_FPS) -> cv2.VideoCapture:
    """An opened VideoCapture for a device index or a video file; raises CameraError.

    A device is asked for REQUESTED_SIZE and `fps` (at least MIN_REQUESTED_FPS); it may give
    something else (see `capture_mode`). A file plays as it was recorded.
    """
    source = camera_source(source)
    if isinstance(source, str):
        if not Path(source).is_file():
            raise CameraError(f"video file not found: {source}")
        capture = cv2.VideoCapture(source)
    else:
        capture = cv2.VideoCapture(source)
    if not capture.isOpened():
        capture.release()
        raise CameraError(f"cannot open camera {source!r} (unplugged or in use by another app?)")
    if not isinstance(source, str):
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, REQUESTED_SIZE[0])
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, REQUESTED_SIZE[1])
        capture.set(cv2.CAP_PROP_FPS, max(fps, MIN_REQUESTED_FPS))
    return capture


def capture_mode(capture: cv2.VideoCapture) -> CaptureMode:
    """The size and rate an opened capture delivers."""
    return CaptureMode(
        int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
        int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        round(capture.get(cv2.CAP_PROP_FPS) or 0.0, 2),
    )


def fourcc_text(value: float) -> str:
    """A FourCC property as its four characters ("" for 0: no FourCC)."""
    code = int(value)
    return code.to_bytes(4, "little").decode("latin-1") if code > 0 else ""


def packet_format(capture: cv2.VideoCapture, is_file: bool) -> str | None:
    """The layout of this source's undecoded frames, if the camera can read it itself."""
    fourcc = fourcc_text(capture.get(cv2.CAP_PROP_FOURCC))
    if is_file and not fourcc:  # raw video: FourCC 0, the pixel format says the layout
        fourcc = fourcc_text(capture.get(cv2.CAP_PROP_CODEC_PIXEL_FORMAT))
    known = fourcc in PLANAR_YUV or fourcc in GREY or fourcc in PACKED_YUV or fourcc in JPEG
    return fourcc if known else None


def grey_picture(packet: np.ndarray, layout: str, width: int, height: int) -> np.ndarray | None:
    """The grey picture of an undecoded frame, or None if it is not laid out as expected.
    A YUV picture keeps its video range (see FULL_RANGE).

    `packet` is what OpenCV hands over undecoded: from a file, the frame's bytes in one row;
    from a webcam (V4L2), YUYV/UYVY as height x width x 2, planar YUV as 1.5 x height rows,
    grey as height x width, JPEG as one row of bytes.
    """
    data = packet.reshape(-1)
    if data[:2].tobytes() == JPEG_MAGIC:
        flag = (
            cv2.IMREAD_REDUCED_GRAYSCALE_2 if width >= JPEG_HALF_SIZE_FROM else cv2.IMREAD_GRAYSCALE
        )
        grey = cv2.imdecode(data, flag)
        return grey if grey is not None and grey.ndim == 2 else None
    pixels = width * height
    if layout in GREY and data.size == pixels:
        return data.reshape(height, width)
    if layout in PLANAR_YUV and data.size == pixels * 3 // 2:
        return data[:pixels].reshape(height, width)
    if layout in PACKED_YUV and data.size == pixels * 2:
        return np.ascontiguousarray(data.reshape(height, width * 2)[:, PACKED_YUV[layout] :: 2])
    return None


class Camera:
    """Reads frames from `source` on a background thread; `latest()` gives a fresh one."""

    def __init__(
        self,
        source: int | str,
        on_problem: Callable[[str], None] = lambda message: None,
        loop_video: bool = True,
        fps: float = MIN_REQUESTED_FPS,
    ) -> None:
        self.source = camera_source(source)
        self.is_file = isinstance(self.source, str)
        self.loop_video = loop_video
        self.on_problem = on_problem
        self.fps = fps
        self.layout: str | None = None  # the undecoded frames' layout, None: decoded
        self._capture = self._undecoded(open_capture(source, fps))
        self.mode = capture_mode(self._capture)
        if not self.is_file:
            log.info("camera %s delivers %s", self.source, self.mode)
        self._frame: Frame | None = None
        self._new_frame = threading.Condition()
        self._wanted = False  # someone waits in latest(): decode the next frame grabbed
        self._stop = threading.Event()
        self.ended = False
        self.decoded = 0  # frames read (retrieved) since opening, of `index` grabbed
        self._thread = threading.Thread(target=self._run, name="camera", daemon=True)
        self._thread.start()

    def latest(self, newer_than: int = -1, timeout: float = 1.0) -> Frame | None:
        """A frame with index > `newer_than`, waiting up to `timeout`; else None.

        Unless the last decoded frame is already newer than `newer_than`, the next frame the
        source delivers is decoded for this call.
        """

        def ready() -> bool:
            return self._stop.is_set() or (
                self._frame is not None and self._frame.index > newer_than
            )

        with self._new_frame:
            if not ready():
                self._wanted = True
                self._new_frame.notify_all()  # a file read by the clock sleeps until asked
                self._new_frame.wait_for(ready, timeout)
            frame = self._frame
        return frame if frame is not None and frame.index > newer_than else None

    def close(self) -> None:
        """Stop reading and release the device."""
        self._stop.set()
        with self._new_frame:
            self._new_frame.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=2.0)

    @property
    def closed(self) -> bool:
        return not self._thread.is_alive()

    def _run(self) -> None:
        if self.is_file and self.layout is not None:
            self._play_by_clock()
        else:
            self._take_every_frame()

    def _take_every_frame(self) -> None:
        """A webcam (or a file that must be decoded in order): every frame is taken off the
        source (`grab()`), and the one after a request is read."""
        index = 0
        capture: cv2.VideoCapture | None = self._capture
        # A file is paced at its own frame rate so it behaves like a live camera.
        frame_s = 1.0 / (self._capture.get(cv2.CAP_PROP_FPS) or 30.0) if self.is_file else 0.0
        next_due = time.monotonic()
        try:
            while capture is not None and not self._stop.is_set():
                if not capture.grab():
                    capture = self._recover(capture)
                    if capture is None:
                        return
                    continue
                if frame_s:
                    next_due += frame_s
                    delay = next_due - time.monotonic()
                    if delay > 0:
                        self._stop.wait(delay)
                    else:
                        next_due = time.monotonic()
                index += 1
                with self._new_frame:
                    wanted = self._wanted
                if not wanted:
                    continue
                self._hand_over(capture, index)
        finally:
            if capture is not None:
                capture.release()

    def _play_by_clock(self) -> None:
        """A file read undecoded (raw or MJPG: every frame a key frame) is not taken off frame by
        frame as a webcam's must be: the camera sleeps until a frame is wanted, then reads the
        one due by then at the file's own rate, seeking over the frames between. Those cost
        nothing, as a webcam's unread frames nearly do, and the file still plays at its pace,
        to its end (then again from the start, if it loops) whether or not anyone watches."""
        capture = self._capture
        frame_s = 1.0 / (capture.get(cv2.CAP_PROP_FPS) or 30.0)
        # A seek past the end lands on the last frame, so the end is known by the count.
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        pass_started, pass_first = time.monotonic(), 0  # this pass through the file: when, index
        index = 0  # the last frame handed over, counted since opening (`Frame.index`)
        position = 0  # the file's frame the next grab reads
        try:
            while not self._stop.is_set():
                pass_end = pass_started + count * frame_s if count > 0 else None
                with self._new_frame:
                    until_end = None if pass_end is None else max(0.0, pass_end - time.monotonic())
                    self._new_frame.wait_for(lambda: self._wanted or self._stop.is_set(), until_end)
                now = time.monotonic()
                due = max(index + 1, pass_first + int((now - pass_started) / frame_s) + 1)
                if pass_end is not None and due - pass_first > count:
                    if not self.loop_video:
                        break
                    pass_started, pass_first = pass_end, pass_first + count
                    continue
                if not self._wanted:
                    continue
                wait = pass_started + (due - pass_first - 1) * frame_s - now
                if self._stop.wait(max(0.0, wait)):
                    return
                frame = due - pass_first - 1
                if frame != position:
                    capture.set(cv2.CAP_PROP_POS_FRAMES, frame)
                if not capture.grab():
                    if self.loop_video and count <= 0 and position > 0:  # no count: ends here
                        pass_started, pass_first, position = now, index, -1
                        continue
                    break  # the end (of a file shorter than its count says, or empty)
                position, index = frame + 1, due
                self._hand_over(capture, index)  # one that does not read is skipped, not retried
            if not self._stop.is_set():
                self.ended = True
                with self._new_frame:
                    self._new_frame.notify_all()
        finally:
            capture.release()

    def _hand_over(self, capture: cv2.VideoCapture, index: int) -> None:
        """Read the frame just grabbed and give it to whoever waits in `latest()` (a frame that
        does not read is dropped; the request stays open for the next one)."""
        ok, image = capture.retrieve()
        grey = self._grey(capture, image) if ok else None
        if grey is None:
            return
        self.decoded += 1
        levels = FULL_RANGE if self.layout in VIDEO_RANGE else None
        with self._new_frame:
            self._frame = Frame(grey, time.monotonic(), index, levels)
            self._wanted = False
            self._new_frame.notify_all()

    def _undecoded(self, capture: cv2.VideoCapture) -> cv2.VideoCapture:
        """`capture` switched to undecoded frames if their layout is one the camera reads.

        A file is tried on its first frame (then rewound); one that does not read as expected
        is opened again and decoded. A webcam's frames are checked as they come (`_grey`).
        """
        self.layout = packet_format(capture, self.is_file)
        if self.layout is None:
            return capture
        if not self.is_file:
            if not capture.set(cv2.CAP_PROP_CONVERT_RGB, 0):
                self.layout = None
            return capture
        if capture.set(cv2.CAP_PROP_FORMAT, -1) and capture.grab():
            ok, packet = capture.retrieve()
            width, height = (
                int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
                int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            )
            readable = ok and grey_picture(packet, self.layout, width, height) is not None
            if readable and capture.set(cv2.CAP_PROP_POS_FRAMES, 0):
                return capture
        log.info("%s: its %s frames are decoded by OpenCV", self.source, self.layout)
        capture.release()
        self.layout = None
        return open_capture(self.source, self.fps)

    def _grey(self, capture: cv2.VideoCapture, image: np.ndarray) -> np.ndarray | None:
        """The grey picture of a frame as retrieved (None: skip this frame)."""
        if self.layout is None:
            return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        grey = grey_picture(image, self.layout, self.mode.width, self.mode.height)
        if grey is None and not self.is_file:
            # A webcam that hands its frames over in a shape not foreseen: decoded from now on.
            log.info("camera %s: its %s frames are decoded by OpenCV", self.source, self.layout)
            self.layout = None
            capture.set(cv2.CAP_PROP_CONVERT_RGB, 1)
        return grey

    def _recover(self, capture: cv2.VideoCapture) -> cv2.VideoCapture | None:
        """After a failed read: rewind a video, or reopen a lost device until it is back."""
        if self.is_file:
            rewound = self.loop_video and capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            if rewound and capture.grab():
                capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                return capture
            self.ended = True
            capture.release()
            with self._new_frame:
                self._new_frame.notify_all()
            return None
        capture.release()
        self.on_problem(f"camera {self.source} stopped delivering frames; retrying")
        while not self._stop.wait(RETRY_S):
            try:
                capture = self._undecoded(open_capture(self.source, self.fps))
            except CameraError as exc:
                log.warning("%s", exc)
                continue
            log.info("camera %s is back", self.source)
            return capture
        return None
