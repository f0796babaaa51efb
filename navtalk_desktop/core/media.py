"""Probing and decoding video files with the bundled ffmpeg, with specific errors for bad input."""

from __future__ import annotations

import hashlib
import os
import queue
import re
import subprocess
import threading
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator, Sequence

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
    # Variable frame rate: the file's frames are resampled on their true timestamps to the constant
    # `fps` (chosen from the clip) wherever they are decoded, so frame i is always at i / fps seconds.
    vfr: bool = False
    stored_frames: int = 0  # frames in the file (equals frame_count unless vfr)
    interval_ms: tuple[float, float] | None = None  # shortest and longest frame interval in the file
    # How the samples are to be read as colour, as the file tags them ("" untagged): the morph's transition
    # frames reach the encode as raw I420 and must carry the same tags as the body, or the graph converts
    # them (colour_tags)
    color_range: str = ""  # tv or pc
    color_space: str = ""  # the YUV matrix: bt709, smpte170m, bt470bg...
    color_primaries: str = ""
    color_trc: str = ""

    def to_dict(self) -> dict:
        data = asdict(self)
        data["fps"] = float(self.fps)
        data["fps_fraction"] = f"{self.fps.numerator}/{self.fps.denominator}"
        data["interval_ms"] = list(self.interval_ms) if self.interval_ms else None
        return data

    @classmethod
    def from_dict(cls, data: dict, path: Path | str) -> "VideoInfo":
        """The inverse of to_dict (for the landmark cache), for the file now at `path`."""
        num, den = (int(v) for v in data["fps_fraction"].split("/"))
        interval = data.get("interval_ms")
        return cls(path=str(path), width=int(data["width"]), height=int(data["height"]), fps=Fraction(num, den),
                   frame_count=int(data["frame_count"]), duration=float(data["duration"]),
                   rotation=int(data["rotation"]), codec=str(data["codec"]), has_audio=bool(data["has_audio"]),
                   vfr=bool(data.get("vfr", False)), stored_frames=int(data.get("stored_frames", 0)),
                   interval_ms=tuple(interval) if interval else None,
                   **{key: str(data.get(key, "")) for key in COLOR_FIELDS})

    def colour_tags(self) -> str:
        """setparams options that tag frames as this file's are ("" when untagged): raw frames made from its
        samples carry no tags, and a graph that joins them to the file's own frames converts the untagged
        ones from BT.601, a shift of ~2 luma levels on a BT.709 clip (a step at a morph's wrap)."""
        values = {"range": self.color_range, "colorspace": self.color_space, "color_primaries": self.color_primaries,
                  "color_trc": _SETPARAMS_TRC.get(self.color_trc, self.color_trc)}
        # only the names setparams takes: a tag it does not know would fail the whole encode
        return ":".join(f"{option}={value}" for option, value in values.items() if value in _SETPARAMS[option])

    def vfr_note(self) -> str:
        """The sentence every report carries for a variable-frame-rate source ("" otherwise)."""
        if not self.vfr:
            return ""
        lo, hi = self.interval_ms or (0.0, 0.0)
        return (f"variable frame rate ({self.stored_frames} frames, {lo:.0f}-{hi:.0f} ms apart): analysed on "
                f"the true timestamps at a constant {float(self.fps):g} fps ({self.frame_count} frames); "
                f"exports play at {float(self.fps):g} fps")


def constant_rate_filter(info: VideoInfo) -> str:
    """The ffmpeg filter that turns a VFR source into the constant-rate frames analysis and export use."""
    return f"fps={info.fps.numerator}/{info.fps.denominator}" if info.vfr else ""


# Rates a resampled VFR clip snaps to when its own rate is within 1.5 % of one.
_COMMON_RATES = (Fraction(24000, 1001), Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30),
                 Fraction(50), Fraction(60000, 1001), Fraction(60), Fraction(120))
VFR_TOLERANCE = 0.1  # intervals more than 10 % away from the typical one make a clip VFR


@dataclass(frozen=True)
class _Timing:
    packets: int
    span_s: float  # first timestamp to the end of the last frame
    intervals_s: list[float]


def _timing_from_framecrc(text: str) -> _Timing | None:
    """Packet timestamps from ffmpeg's framecrc listing (stream, dts, pts, duration, size, crc)."""
    tb = re.search(r"^#tb 0: (\d+)/(\d+)", text, re.M)
    if not tb:
        return None
    tick = int(tb.group(1)) / int(tb.group(2))
    pts, durations = [], []
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        cols = line.split(",")
        if len(cols) < 5:
            continue
        try:
            pts.append(int(cols[2]))
            durations.append(int(cols[3]))
        except ValueError:
            return None  # no timestamps (a raw stream): nothing to judge the rate by
    if len(pts) < 3:
        return None
    order = sorted(range(len(pts)), key=pts.__getitem__)
    stamps = [pts[i] for i in order]
    intervals = [(b - a) * tick for a, b in zip(stamps, stamps[1:])]
    last = durations[order[-1]] * tick or sorted(intervals)[len(intervals) // 2]
    return _Timing(len(pts), (stamps[-1] - stamps[0]) * tick + last, intervals)


def _constant_rate_for(timing: _Timing) -> Fraction | None:
    """None for a constant-rate clip, else the rate to resample it to: that of its short intervals."""
    intervals = sorted(timing.intervals_s)
    typical = intervals[len(intervals) // 2]
    if typical <= 0:
        return None
    off = [d for d in intervals if abs(d - typical) > VFR_TOLERANCE * typical]
    if len(off) < 2:
        return None  # one dropped or doubled frame is not worth resampling the whole clip for
    short = intervals[len(intervals) // 10]
    if short <= 0:
        return None
    rate = Fraction(1 / short).limit_denominator(1001)
    nearest = min(_COMMON_RATES, key=lambda common: abs(rate / common - 1))
    return nearest if abs(rate / nearest - 1) <= 0.015 else min(rate, Fraction(120))


# Bump when probe() would describe the same bytes differently: cached probe results are then ignored.
PROBE_VERSION = "framecrc-vfr-colour-2"  # 2: the colour tags (VideoInfo.colour_tags)


def check_file(path: Path | str) -> None:
    """A specific error for a missing, directory or empty path (before anything reads it)."""
    path = Path(path)
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


def looks_mp4(path: Path | str) -> bool:
    """Whether the file starts as an ISO media file does (MP4, MOV, M4V: an `ftyp` box)."""
    with open(path, "rb") as fh:
        return fh.read(12)[4:8] == b"ftyp"


COLOR_FIELDS = ("color_range", "color_space", "color_primaries", "color_trc")
# av_color_transfer_name's names that setparams spells otherwise
_SETPARAMS_TRC = {"gamma22": "bt470m", "gamma28": "bt470bg"}
_RANGES = {"tv", "pc"}
_SETPARAMS = {  # the values ffmpeg's setparams filter accepts ("unknown" left out: it says nothing)
    "range": _RANGES,
    "colorspace": {"gbr", "bt709", "fcc", "bt470bg", "smpte170m", "smpte240m", "ycgco", "bt2020nc", "bt2020c",
                   "smpte2085", "chroma-derived-nc", "chroma-derived-c", "ictcp"},
    "color_primaries": {"bt709", "bt470m", "bt470bg", "smpte170m", "smpte240m", "film", "bt2020", "smpte428",
                        "smpte431", "smpte432", "jedec-p22", "ebu3213"},
    "color_trc": {"bt709", "bt470m", "bt470bg", "smpte170m", "smpte240m", "linear", "log100", "log316",
                  "iec61966-2-4", "bt1361e", "iec61966-2-1", "bt2020-10", "bt2020-12", "smpte2084", "smpte428",
                  "arib-std-b67"},
}
_SPACES = _SETPARAMS["colorspace"]


def _colour_from(line: str) -> dict[str, str]:
    """The colour tags ffmpeg prints after the pixel format: "yuv420p(tv, bt709, progressive)", or with the
    matrix, primaries and transfer apart, "yuv420p(tv, bt470bg/smpte170m/bt709)"."""
    found = re.search(r"Video: .*?,\s*[a-z0-9_]+\(([^)]*)\)", line)
    tags = dict.fromkeys(COLOR_FIELDS, "")
    for item in (found.group(1).split(",") if found else []):
        item = item.strip()
        if item in _RANGES:
            tags["color_range"] = item
        elif item.count("/") == 2:
            tags["color_space"], tags["color_primaries"], tags["color_trc"] = item.split("/")
        elif item in _SPACES:
            tags["color_space"] = tags["color_primaries"] = tags["color_trc"] = item
    return tags


def probe(path: Path | str) -> VideoInfo:
    """Read stream facts and count frames exactly (packet count, no decode)."""
    path = Path(path)
    check_file(path)
    # framecrc lists every packet with its timestamps (stream copy, no decode): the exact frame count
    # and the frame timing in one pass.
    proc = ffmpeg.popen(
        ["-i", str(path), "-map", "0:v:0?", "-c", "copy", "-f", "framecrc", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
    )
    listing, err = proc.communicate()
    if "Invalid data found when processing input" in err or "moov atom not found" in err:
        if looks_mp4(path):
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
    timing = _timing_from_framecrc(listing) if not still else None
    vfr_rate = _constant_rate_for(timing) if timing else None
    if vfr_rate is not None:
        stored = frame_count
        frame_count = max(1, int(round(timing.span_s * vfr_rate)))  # what ffmpeg's fps filter yields
        return VideoInfo(path=str(path), width=width, height=height, fps=vfr_rate, frame_count=frame_count,
                         duration=frame_count / float(vfr_rate), rotation=rotation, codec=codec,
                         has_audio=has_audio, vfr=True, stored_frames=stored,
                         interval_ms=(round(min(timing.intervals_s) * 1000, 1),
                                      round(max(timing.intervals_s) * 1000, 1)), **_colour_from(line))
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
        stored_frames=frame_count,
        **_colour_from(line),
    )


def content_hash(path: Path | str, chunk: int = 1 << 20) -> str:
    """SHA-256 of the file's bytes: the key of every per-video cache."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def widen_pipe(stream) -> None:
    """A 1 MB pipe instead of 64 KB: ffmpeg runs further ahead and the reader wakes 16x less often."""
    try:
        import fcntl

        fcntl.fcntl(stream.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError, ValueError):
        pass  # not Linux, or a lower limit: the default pipe works, a little slower


def scaled_size(width: int, height: int, scale_width: int) -> tuple[int, int]:
    """(width, height) of `width` x `height` frames scaled to `scale_width`: even height, the aspect ratio kept."""
    return scale_width, int(round(height * scale_width / width / 2)) * 2


def iter_frames(
    path: Path | str,
    info: VideoInfo | None = None,
    *,
    start_frame: int = 0,
    end_frame: int | None = None,
    gray: bool = False,
    yuv420: bool = False,
    scale_width: int | None = None,
    scale_flags: str = "area",
    fit_long_side: int | None = None,
    decode_threads: int | None = None,
    prefetch: int = 8,
    cancel: CancelToken | None = None,
    thumbs: list | None = None,
    thumb_width: int | None = None,
    only: Sequence[tuple[int, int]] | None = None,
    crop_even: bool = False,
    rgb_via_i420: bool = False,
) -> Iterator[np.ndarray]:
    """Decode frames [start_frame, end_frame) as RGB (or gray) uint8 arrays.

    `yuv420`: planar I420 instead, one (h * 3 / 2, w) array (the Y plane, then U and V), half the bytes of
    RGB and no colour conversion; even sizes only. A reader thread keeps up to `prefetch` frames ahead, so ffmpeg decodes while the caller works.
    With `thumbs` (a list) and `thumb_width`, the same decode also appends each frame as gray, area-scaled
    to `thumb_width`, at most the frame's even width (thumb_size; exactly what `iter_frames(gray=True, scale_width=thumb_width)` yields), through a
    second pipe; POSIX only (elsewhere `thumbs` stays empty and the caller decodes them itself).
    `only`: inclusive frame ranges (first, last); the other frames are decoded but never converted or sent.
    `crop_even`: drop the last column and row of an odd size (as the export's encode does).
    `fit_long_side` (instead of `scale_width`): scaled to fit inside it (fitted_size), by ffmpeg's own scale
    filter even when the frames fit already, so that a pixel-format conversion (4:2:2, 10 bit) uses
    `scale_flags` too.
    `rgb_via_i420`: RGB frames that ffmpeg sends as I420 and the reader thread converts with OpenCV (BT.601,
    limited range), where the frame size is even; ~35% less CPU than swscale's RGB, so the landmark pass
    decodes beside the mesh instead of competing with it (docs/performance.md). Close to, not bit-exact
    with, ffmpeg's RGB: for analysis only, never for frames that are encoded.
    """
    info = info or probe(path)
    width, height = info.width, info.height
    filters = [constant_rate_filter(info)] if info.vfr else []
    if start_frame or end_frame is not None:
        end = "" if end_frame is None else f":end_frame={end_frame}"
        filters.append(f"trim=start_frame={start_frame}{end},setpts=PTS-STARTPTS")
    if only:
        filters.append("select=" + "+".join(f"between(n\\,{a}\\,{b})" for a, b in only))
    if crop_even and (width % 2 or height % 2):
        width, height = width - width % 2, height - height % 2
        filters.append(f"crop={width}:{height}:0:0")
    scale = ""
    if scale_width:
        width, height = scaled_size(info.width, info.height, scale_width)
        scale = f"scale={width}:{height}:flags={scale_flags}"
    elif fit_long_side:  # the filter iter_fitted_frames_probing runs, so that both give the same frames
        width, height = fitted_size(info.width, info.height, fit_long_side)
        scale = f"{_fit_scale_expr(fit_long_side)}:flags={scale_flags}"
    if yuv420 and (width % 2 or height % 2):
        raise ValueError(f"I420 frames need an even frame size, not {width}x{height}")
    to_rgb = None
    if rgb_via_i420 and not (gray or yuv420 or width % 2 or height % 2):
        yuv420, to_rgb = True, _i420_to_rgb
    pix_fmt = "gray" if gray else "yuv420p" if yuv420 else "rgb24"
    thumb_wh = None
    if thumbs is not None and thumb_width and os.name == "posix":
        thumb_wh = thumb_size(info.width, info.height, thumb_width)
    proc, thumb_fd = _start_decode(path, [], decode_threads, filters, scale, pix_fmt,
                                   thumb_wh and f"{thumb_wh[0]}:{thumb_wh[1]}")
    shape = (height, width) if gray else (height * 3 // 2, width) if yuv420 else (height, width, 3)
    yield from _stream_frames(proc, shape, to_rgb, thumb_wh and (thumb_fd, *thumb_wh), thumbs, prefetch, cancel)


def _start_decode(path, input_options: list[str], decode_threads: int | None, filters: list[str], scale: str,
                  pix_fmt: str, thumb_size: str | None) -> tuple[subprocess.Popen, int | None]:
    """ffmpeg decoding `path` to raw `pix_fmt` frames on its stdout, `filters` and `scale` applied; with
    `thumb_size` ("w:h"), gray thumbnails too, on a pipe whose read end is returned (POSIX)."""
    args = [*(["-threads", str(decode_threads)] if decode_threads else []), *input_options, "-i", str(path)]
    thumb_pipe = os.pipe() if thumb_size else None
    if thumb_pipe:
        args += _split_outputs(filters, scale, pix_fmt, thumb_size, thumb_pipe[1])
    else:
        chain = [*filters, *([scale] if scale else [])]
        args += ["-map", "0:v:0", *(["-vf", ",".join(chain)] if chain else []),
                 "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", pix_fmt, "-"]
    try:
        proc = ffmpeg.popen(["-loglevel", "error", *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            **({"pass_fds": (thumb_pipe[1],)} if thumb_pipe else {}))
    except BaseException:
        if thumb_pipe:
            os.close(thumb_pipe[0])
        raise
    finally:
        if thumb_pipe:
            os.close(thumb_pipe[1])  # the child holds the write end now
    return proc, thumb_pipe[0] if thumb_pipe else None


def _split_outputs(filters: list[str], scale: str, pix_fmt: str, thumb_size: str, thumb_fd: int) -> list[str]:
    """ffmpeg outputs of a decode split in two: the frames (`scale`d, in `pix_fmt`) on stdout, and gray
    area-scaled thumbnails (`thumb_size`, "w:h") on the pipe `thumb_fd`."""
    head = ",".join(filters) + "," if filters else ""
    main = f"{scale},format={pix_fmt}" if scale else f"format={pix_fmt}"
    return ["-filter_complex", f"[0:v:0]{head}split[main][thumb];[main]{main}[m];"
                               f"[thumb]scale={thumb_size}:flags=area,format=gray[t]",
            "-map", "[m]", "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", pix_fmt, "-",
            "-map", "[t]", "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "gray", f"pipe:{thumb_fd}"]


def fit_width(width: int, height: int, long_side: int) -> int | None:
    """The even width of `width` x `height` frames scaled to fit inside `long_side` (aspect kept; the height
    is scaled_size's), or None when they already fit."""
    longest = max(width, height)
    return int(round(width * long_side / longest / 2)) * 2 if longest > long_side else None


def fitted_size(width: int, height: int, long_side: int) -> tuple[int, int]:
    """Size of `width` x `height` frames fitted inside `long_side` (fit_width; unchanged when they fit)."""
    scale_width = fit_width(width, height, long_side)
    return scaled_size(width, height, scale_width) if scale_width else (width, height)


def thumb_size(width: int, height: int, thumb_width: int) -> tuple[int, int]:
    """Size of the gray thumbnails `thumb_width` wide, at most the frame's even width."""
    return scaled_size(width, height, min(thumb_width, width - width % 2))


def _twice_rounded(x: str) -> str:
    """ffmpeg expression of 2 * round(x) with Python's round half to even, so that ffmpeg sizes a frame
    exactly as fit_width, scaled_size and thumb_size do (same double arithmetic, in the same order)."""
    up = f"floor({x}+0.5)"
    return f"2*({up}-eq({x}+0.5,{up})*mod({up},2))"


def _fit_scale_expr(long_side: int) -> str:
    """The scale filter of fit_width, sized by ffmpeg from the input itself."""
    longest = "max(iw,ih)"
    w = f"if(gt({longest},{long_side}),{_twice_rounded(f'iw*{long_side}/{longest}/2')},iw)"
    h = f"if(gt({longest},{long_side}),{_twice_rounded('ih*ow/iw/2')},ih)"
    return f"scale=w='{w}':h='{h}'"


def _thumb_size_expr(thumb_width: int) -> str:
    return f"w='min({thumb_width},iw-mod(iw,2))':h='{_twice_rounded('ih*ow/iw/2')}'"


def iter_fitted_frames_probing(
    path: Path | str,
    long_side: int,
    *,
    thumbs: list,
    thumb_width: int | None,
    thumbs_wanted: Callable[[VideoInfo], bool] = lambda info: True,
    scale_flags: str = "area",
    decode_threads: int | None = None,
    cancel: CancelToken | None = None,
) -> tuple[VideoInfo, Iterator[np.ndarray]]:
    """The probe of `path` and its RGB frames fitted inside `long_side` (iter_frames with fit_width's
    `scale_width` and `rgb_via_i420`), the decode started before the probe: ffmpeg's start (~60 ms to a
    first 1080p frame) overlaps the probe (~40 ms) instead of following it.

    ffmpeg sizes the frames from the input by expressions that mirror fit_width and thumb_size. When the
    probe shows that this decode is not the one iter_frames would run (a VFR source, an odd fitted size,
    no thumbnails after all: `thumbs_wanted(info)`), it is stopped and that one runs instead. Gray
    thumbnails `thumb_width` wide (thumb_size) go to `thumbs` as with iter_frames.
    """
    if os.name != "posix":  # the second output is a pipe: decode after the probe, as iter_frames does
        info = probe(path)
        return info, _fitted_after_probe(path, info, long_side, thumbs, thumb_width if thumbs_wanted(info) else None,
                                         scale_flags, decode_threads, cancel)
    check_file(path)
    # An MP4's header holds what the decoder needs (the codec's parameters in `stsd`, the rotation in
    # `tkhd`): skipping ffmpeg's stream analysis brings the first frame ~17 ms sooner, the same frames.
    proc, thumb_fd = _start_decode(path, ["-nofind_stream_info"] if looks_mp4(path) else [], decode_threads, [],
                                   f"{_fit_scale_expr(long_side)}:flags={scale_flags}", "yuv420p",
                                   _thumb_size_expr(thumb_width) if thumb_width else None)
    try:
        info = probe(path)
    except BaseException:
        _end_unused(proc, thumb_fd)
        raise
    width, height = fitted_size(info.width, info.height, long_side)
    wanted_thumb = thumb_width if thumb_width and thumbs_wanted(info) else None
    if info.vfr or width % 2 or height % 2 or wanted_thumb != thumb_width:
        _end_unused(proc, thumb_fd)
        return info, _fitted_after_probe(path, info, long_side, thumbs, wanted_thumb, scale_flags,
                                         decode_threads, cancel)
    thumb_stream = (thumb_fd, *thumb_size(info.width, info.height, thumb_width)) if thumb_fd is not None else None
    early = _stream_frames(proc, (height * 3 // 2, width), _i420_to_rgb, thumb_stream, thumbs, 8, cancel)
    return info, _or_after_probe(early, lambda: _fitted_after_probe(path, info, long_side, thumbs, wanted_thumb,
                                                                    scale_flags, decode_threads, cancel), thumbs)


def _or_after_probe(early: Iterator[np.ndarray], after_probe, thumbs: list) -> Iterator[np.ndarray]:
    """The early decode's frames; should it give none at all (a file whose header misled it), the decode
    after the probe's instead, so that the early start can only ever save time."""
    given = False
    for frame in early:
        given = True
        yield frame
    if not given:
        thumbs.clear()
        yield from after_probe()


def _i420_to_rgb(i420: np.ndarray) -> np.ndarray:
    """RGB of a planar I420 frame (BT.601, limited range: swscale's default), by OpenCV."""
    import cv2

    return cv2.cvtColor(i420, cv2.COLOR_YUV2RGB_I420)


def _fitted_after_probe(path, info, long_side, thumbs, thumb_width, scale_flags, decode_threads, cancel):
    return iter_frames(path, info, fit_long_side=long_side,
                       scale_flags=scale_flags, decode_threads=decode_threads, cancel=cancel,
                       thumbs=thumbs if thumb_width else None, thumb_width=thumb_width, rgb_via_i420=True)


def _end_unused(proc: subprocess.Popen, thumb_fd: int | None) -> None:
    """Stop a decode whose frames will not be read."""
    proc.kill()
    proc.wait()
    if proc.stdout:
        proc.stdout.close()
    if thumb_fd is not None:
        os.close(thumb_fd)


def _stream_frames(proc: subprocess.Popen, shape: tuple[int, ...], to_rgb, thumb_stream, thumbs, prefetch: int,
                   cancel: CancelToken | None) -> Iterator[np.ndarray]:
    """The frames of a running decode (raw frames of `shape` on its stdout), read ahead by a reader thread;
    `thumb_stream`: (fd, width, height) of its second, gray output, appended to `thumbs`. Ends the process
    when the caller stops early."""
    widen_pipe(proc.stdout)
    thumb_thread = None
    if thumb_stream:
        fd, tw, th = thumb_stream
        stream = os.fdopen(fd, "rb")
        widen_pipe(stream)
        thumb_thread = threading.Thread(target=read_gray_stream, args=(stream, tw, th, thumbs),
                                        name="thumb-reader", daemon=True)
        thumb_thread.start()
    frame_bytes = int(np.prod(shape))
    frames: queue.Queue = queue.Queue(maxsize=max(1, prefetch))
    stop = threading.Event()

    def _reader() -> None:
        assert proc.stdout is not None
        try:
            while not stop.is_set():
                buf = proc.stdout.read(frame_bytes)
                if len(buf) < frame_bytes:
                    break
                item = np.frombuffer(buf, np.uint8).reshape(shape)
                if to_rgb is not None:  # here, so that the conversion runs beside the caller's work
                    item = to_rgb(item)
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
    finished = False
    try:
        while True:
            if cancel is not None:
                cancel.raise_if_cancelled()
            item = frames.get()
            if item is None:
                break
            yield item
        finished = True
    finally:
        stop.set()
        if not finished and proc.poll() is None:
            proc.kill()
        proc.wait()
        thread.join(timeout=2)
        if thumb_thread is not None:
            thumb_thread.join(timeout=5)
            if not finished:
                thumbs.clear()  # a partial list must not pass for the clip's thumbnails
        if proc.stdout:
            proc.stdout.close()


def read_gray_stream(stream, width: int, height: int, out) -> None:
    """Reader of a second ffmpeg output of raw gray frames (iter_frames' thumbnails, the export's loopback
    decode): every frame appended to `out` (a list, or seam.StreamedFrames) until the stream ends."""
    size = width * height
    with stream:
        while True:
            buf = stream.read(size)
            if len(buf) < size:
                return
            out.append(np.frombuffer(buf, np.uint8).reshape(height, width))


def read_frames(path: Path | str, info: VideoInfo | None = None, **kwargs) -> np.ndarray:
    """All frames of a (short) video as one array (n, h, w[, 3])."""
    return np.stack(list(iter_frames(path, info, **kwargs)))
