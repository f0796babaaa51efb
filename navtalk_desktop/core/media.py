"""Probing and decoding video files with the bundled ffmpeg, with specific errors for bad input."""

from __future__ import annotations

import hashlib
import queue
import re
import subprocess
import threading
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from . import ffmpeg
from .cancel import CancelToken
from .errors import InputError

# Codecs that hold still images: a PNG or JPEG renamed to .mp4 decodes as one "video" frame.
_STILL_CODECS = {"png", "mjpeg", "bmp", "gif", "webp", "tiff", "jpegls", "jpeg2000", "pam", "ppm", "pgm"}
_STILL_DEMUXERS = ("png_pipe", "jpeg_pipe", "bmp_pipe", "webp_pipe", "tiff_pipe", "image2", "gif")


@dataclass(frozen=True)
class VideoInfo:
    """What the rest of the app needs to know about a source video. Sizes are as displayed (rotation applied)."""

    path: str
    width: int
    height: int
    fps: Fraction
    frame_count: int
    duration: float
    rotation: int
    codec: str
    has_audio: bool

    def to_dict(self) -> dict:
        data = asdict(self)
        data["fps"] = float(self.fps)
        data["fps_fraction"] = f"{self.fps.numerator}/{self.fps.denominator}"
        return data


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError(f"file not found: {path}")
    if path.is_dir():
        raise InputError(f"expected a video file but got a directory: {path}")
    if path.stat().st_size == 0:
        raise InputError(f"the file is empty (0 bytes): {path}")


def _fps_from(text: str) -> Fraction | None:
    match = re.search(r"(\d+(?:\.\d+)?)(k?) fps", text)
    if not match:
        match = re.search(r"(\d+(?:\.\d+)?)(k?) tbr", text)
    if not match:
        return None
    value = float(match.group(1)) * (1000 if match.group(2) else 1)
    if value <= 0:
        return None
    return Fraction(value).limit_denominator(1001)


def probe(path: Path | str) -> VideoInfo:
    """Read stream facts and count frames exactly (packet count, no decode)."""
    path = Path(path)
    _check_file(path)
    proc = ffmpeg.popen(
        ["-i", str(path), "-map", "0:v:0?", "-c", "copy", "-f", "null", "-"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
    )
    _, err = proc.communicate()
    if "Invalid data found when processing input" in err or "moov atom not found" in err:
        with open(path, "rb") as fh:
            looks_mp4 = fh.read(12)[4:8] == b"ftyp"
        if looks_mp4:
            raise InputError(f"the MP4 file is truncated or damaged (its index is missing): {path}")
        raise InputError(f"not a video file (ffmpeg does not recognise its content): {path}")
    input_section = err.split("Stream mapping:")[0]
    video_lines = [line for line in input_section.splitlines() if re.search(r"Stream #0:\d+.*: Video:", line)]
    has_audio = bool(re.search(r"Stream #0:\d+.*: Audio:", input_section))
    if not video_lines:
        if "Stream #0" not in input_section:
            raise InputError(f"the file holds no streams (no video frames): {path}")
        if has_audio:
            raise InputError(f"the file has audio but no video stream: {path}")
        raise InputError(f"not a readable video file: {path}")
    line = video_lines[0]
    codec = re.search(r"Video: (\w+)", line).group(1)
    demuxer = re.search(r"Input #0, ([\w,]+), from", input_section)
    size = re.search(r", (\d{2,5})x(\d{2,5})", line)
    if not size:
        raise InputError(f"cannot read the frame size of {path}")
    width, height = int(size.group(1)), int(size.group(2))
    rotation = 0
    rot = re.search(r"rotation of (-?\d+(?:\.\d+)?) degrees", input_section)
    if rot:
        rotation = int(round(float(rot.group(1)))) % 360
        if rotation in (90, 270):
            width, height = height, width
    fps = _fps_from(line)
    frames = re.findall(r"frame=\s*(\d+)", err)
    frame_count = int(frames[-1]) if frames else 0
    if proc.returncode != 0 and frame_count == 0:
        raise InputError(f"ffmpeg cannot read {path}: {err.strip().splitlines()[-1] if err.strip() else 'unknown error'}")
    if frame_count == 0:
        raise InputError(f"the video has no frames: {path}")
    still = codec in _STILL_CODECS and (demuxer is None or demuxer.group(1).startswith(_STILL_DEMUXERS))
    if still and frame_count <= 1:
        raise InputError(f"this is a still image ({codec}), not a video: {path}")
    if fps is None:
        raise InputError(f"cannot read the frame rate of {path}")
    return VideoInfo(
        path=str(path),
        width=width,
        height=height,
        fps=fps,
        frame_count=frame_count,
        duration=frame_count / float(fps),
        rotation=rotation,
        codec=codec,
        has_audio=has_audio,
    )


def content_hash(path: Path | str, chunk: int = 1 << 20) -> str:
    """SHA-256 of the file's bytes: the key of every per-video cache."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _widen_pipe(stream) -> None:
    """A 1 MB pipe instead of 64 KB: ffmpeg runs further ahead and the reader wakes 16x less often."""
    try:
        import fcntl

        fcntl.fcntl(stream.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError, ValueError):
        pass  # not Linux, or a lower limit: the default pipe works, a little slower


def iter_frames(
    path: Path | str,
    info: VideoInfo | None = None,
    *,
    start_frame: int = 0,
    end_frame: int | None = None,
    gray: bool = False,
    scale_width: int | None = None,
    scale_flags: str = "area",
    decode_threads: int | None = None,
    prefetch: int = 8,
    cancel: CancelToken | None = None,
) -> Iterator[np.ndarray]:
    """Decode frames [start_frame, end_frame) as RGB (or gray) uint8 arrays.

    A reader thread keeps up to `prefetch` frames ahead, so ffmpeg decodes while the caller works.
    """
    info = info or probe(path)
    width, height = info.width, info.height
    filters = []
    if start_frame or end_frame is not None:
        end = "" if end_frame is None else f":end_frame={end_frame}"
        filters.append(f"trim=start_frame={start_frame}{end},setpts=PTS-STARTPTS")
    if scale_width:
        height = int(round(height * scale_width / width / 2)) * 2
        width = scale_width
        filters.append(f"scale={width}:{height}:flags={scale_flags}")
    pix_fmt, channels = ("gray", 1) if gray else ("rgb24", 3)
    args = ["-i", str(path), "-map", "0:v:0"]
    if decode_threads:
        args[0:0] = ["-threads", str(decode_threads)]
    if filters:
        args += ["-vf", ",".join(filters)]
    args += ["-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", pix_fmt, "-"]
    proc = ffmpeg.popen(["-loglevel", "error", *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    _widen_pipe(proc.stdout)
    frame_bytes = width * height * channels
    frames: queue.Queue = queue.Queue(maxsize=max(1, prefetch))
    stop = threading.Event()

    def _reader() -> None:
        assert proc.stdout is not None
        try:
            while not stop.is_set():
                buf = proc.stdout.read(frame_bytes)
                if len(buf) < frame_bytes:
                    break
                shape = (height, width) if gray else (height, width, 3)
                item = np.frombuffer(buf, np.uint8).reshape(shape)
                while not stop.is_set():
                    try:
                        frames.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
        finally:
            while True:
                try:
                    frames.put(None, timeout=0.1)
                    break
                except queue.Full:
                    if stop.is_set():
                        break

    thread = threading.Thread(target=_reader, name="frame-reader", daemon=True)
    thread.start()
    try:
        while True:
            if cancel is not None:
                cancel.raise_if_cancelled()
            item = frames.get()
            if item is None:
                break
            yield item
    finally:
        stop.set()
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        thread.join(timeout=2)
        if proc.stdout:
            proc.stdout.close()


def read_frames(path: Path | str, info: VideoInfo | None = None, **kwargs) -> np.ndarray:
    """All frames of a (short) video as one array (n, h, w[, 3])."""
    return np.stack(list(iter_frames(path, info, **kwargs)))
