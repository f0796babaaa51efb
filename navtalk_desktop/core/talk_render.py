"""Render a talking clip offline: the idle loop repeated for as long as the speech lasts, the mouth
drawn frame by frame from the utterance's timeline, the audio muxed in, in one ffmpeg encode.

Why offline: a clip can be checked or shipped without the preview window, and it is the end-to-end
test of lip-sync (the mouth measured in the output must follow the audio in the output).
"""

from __future__ import annotations

import math
import queue
import subprocess
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from . import ffmpeg, media
from .atomic import atomic_output, check_output_path, ensure_not_source
from .cancel import CancelToken
from .errors import CancelledError, FFmpegError, InputError
from .mouth.renderer import MouthRenderer
from .speech.audio import write_wav
from .speech.utterance import Utterance
from .talk_frames import I420Painter, loop_frames

TAIL_S = 0.3  # frames after the last sound, so the mouth visibly settles before the clip ends
# x264's superfast search (diamond, subpel 1, intra partitions only) with veryfast's macroblock-tree rate
# control kept: half the encoder's CPU of veryfast at 1080p for 0.0002 SSIM, and without the tree a still
# portrait's file triples (docs/mouth-comparison.md, speed of speak).
X264_SPEED = ("-preset", "superfast", "-x264-params", "mbtree=1:rc-lookahead=10")


@dataclass(frozen=True)
class TalkRenderResult:
    path: Path
    frame_count: int
    fps: float
    duration: float
    audio_duration: float
    render_seconds: float
    faceless_frames: int  # loop frames without landmarks, shown unchanged
    source_warning: str | None = None  # set when the idle loop's own mouth moves a lot (it "talks")


def render_talk_video(
    loop_path: Path | str,
    utterance: Utterance,
    out_path: Path | str,
    *,
    track=None,
    renderer=None,
    crf: int = 18,
    on_progress: Callable[[float], None] | None = None,
    cancel: CancelToken | None = None,
) -> TalkRenderResult:
    """Write `out_path` (H.264 + AAC MP4, atomically). `track`: the loop's LandmarkTrack (computed and
    cached when omitted); `renderer`: anything with MouthRenderer.render's signature (e.g. a patch set)."""
    started = time.perf_counter()
    loop_path = Path(loop_path)
    out_path = check_output_path(Path(out_path))
    ensure_not_source(out_path, loop_path)
    info = media.probe(loop_path)
    if track is None:
        from .landmarks import load_or_compute_landmarks

        track = load_or_compute_landmarks(loop_path, info, cancel=cancel)
    if track.frame_count == 0 or not track.face_present.any():
        raise InputError(f"no face was found in the loop, so there is no mouth to animate: {loop_path}")
    renderer = renderer or MouthRenderer(track)
    fps = float(info.fps)
    n_out = max(1, int(math.ceil((utterance.duration + TAIL_S) * fps)))
    width, height = info.width, info.height
    # Even sizes travel as I420 from decoder to encoder, the mouth drawn on an RGB crop (talk_frames.py);
    # an odd size (no 4:2:0 chroma) as RGB frames, encoded 4:4:4.
    yuv420 = width % 2 == 0 and height % 2 == 0
    pix_fmt = "yuv420p" if yuv420 else "yuv444p"
    written = 0
    with tempfile.TemporaryDirectory(prefix="navtalk-talk-") as tmp_dir:
        wav = write_wav(Path(tmp_dir) / "speech.wav", utterance.audio, utterance.sample_rate)
        with atomic_output(out_path, suffix=".mp4") as tmp_out:
            proc = ffmpeg.popen(
                ["-loglevel", "error", "-y",
                 "-f", "rawvideo", "-pix_fmt", "yuv420p" if yuv420 else "rgb24", "-s", f"{width}x{height}",
                 "-r", f"{info.fps.numerator}/{info.fps.denominator}", "-i", "-",
                 "-i", str(wav), "-map", "0:v:0", "-map", "1:a:0",
                 "-c:v", "libx264", *X264_SPEED, "-crf", str(int(crf)), "-pix_fmt", pix_fmt,
                 "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", "-f", "mp4", str(tmp_out)],
                stdin=subprocess.PIPE, stderr=subprocess.PIPE,
            )
            media.widen_pipe(proc.stdin)  # a 1080p I420 frame is 3 MB: fewer wake-ups of both processes
            tail: deque[str] = deque(maxlen=20)
            drain = threading.Thread(target=lambda: tail.extend(
                line.decode(errors="replace").rstrip() for line in proc.stderr), daemon=True)
            drain.start()
            try:
                written, faceless = _write_frames(proc, loop_path, info, utterance, renderer, track, n_out,
                                                  yuv420, on_progress, cancel)
                proc.stdin.close()
                code = proc.wait()
            except BrokenPipeError:
                proc.wait()
                drain.join(timeout=2)
                raise FFmpegError("encoding the talking clip failed: " + " | ".join(tail)) from None
            except BaseException:
                proc.kill()
                proc.wait()
                raise
            drain.join(timeout=2)
            if code != 0:
                raise FFmpegError("encoding the talking clip failed: " + (" | ".join(tail) or f"exit {code}"))
    if on_progress:
        on_progress(1.0)
    from .mouth.source_mouth import source_mouth

    return TalkRenderResult(out_path, written, fps, written / fps, utterance.duration,
                            time.perf_counter() - started, faceless, source_mouth(track.points, fps).warning(fps))


def _write_frames(proc, loop_path, info, utterance, renderer, track, n_out, yuv420, on_progress, cancel):
    """Feed n_out frames: the loop replayed from memory (talk_frames.loop_frames), each frame's mouth drawn
    here while a writer thread hands the previous ones to the encoder."""
    faceless = 0
    present = track.face_present
    painter = I420Painter(renderer, info.width, info.height) if yuv420 else None
    with _FrameWriter(proc.stdin) as writer:
        for written, (index, frame) in enumerate(loop_frames(loop_path, info, n_out, yuv420=yuv420, cancel=cancel)):
            if cancel is not None and cancel.cancelled:
                raise CancelledError("rendering the talking clip was cancelled")
            # A frame stays on screen for 1/fps: show the pose of the middle of that interval, not its
            # start, or the mouth runs half a frame late.
            t = (written + 0.5) / float(info.fps)
            landmark_index = index % track.frame_count
            if not present[landmark_index]:
                faceless += 1
            params = utterance.mouth_params_at(t)
            if painter is not None:
                frame = painter.paint(frame, landmark_index, params)
            else:
                frame = renderer.render(frame, landmark_index, params)
            writer.put(frame)
            if on_progress and (written + 1) % 10 == 0:
                on_progress(min(0.99, (written + 1) / n_out))
    return n_out, faceless


class _FrameWriter:
    """Writes frames to the encoder's stdin from a thread, a few frames behind the drawing, so drawing a
    frame and piping the previous one overlap. An error while writing is raised on the next put or at
    the end; leaving the block early (an exception) stops the thread without writing the rest."""

    def __init__(self, stream, depth: int = 3) -> None:
        self._stream = stream
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="talk-frame-writer", daemon=True)

    def __enter__(self) -> "_FrameWriter":
        self._thread.start()
        return self

    def put(self, frame: np.ndarray) -> None:
        self._raise()
        self._queue.put(frame)

    def _run(self) -> None:
        while True:
            frame = self._queue.get()
            if frame is None:
                return
            if self._error is not None or self._stop:
                continue  # keep taking frames so put() never blocks after a failure
            try:
                self._stream.write(memoryview(np.ascontiguousarray(frame)).cast("B"))  # no extra copy
            except BaseException as exc:  # noqa: BLE001 - handed to the drawing thread
                self._error = exc

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            # Failing: drop what is queued and do not wait; a write stuck on a stalled encoder ends when the
            # caller kills it (the thread is a daemon).
            self._stop = True
            while True:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
            self._queue.put(None)
            return
        self._queue.put(None)
        self._thread.join()
        self._raise()
