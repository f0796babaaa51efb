"""Loop export: one FFmpeg run, one encode, frame-exact trims, atomic output and a JSON sidecar.

Trims use `trim=start_frame/end_frame` inside one filter graph (never stream copy, which keeps hidden
frames behind an edit list); every strategy and the format conversion happen before the single encode.
The morph strategy's K transition frames are made in Python (core/morph.py) and reach the same single
encode as rawvideo on stdin, concatenated after the body, which the encode trims from the source itself.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from . import ffmpeg, media, morph, strict_json
from .atomic import atomic_output, check_output_path, ensure_not_source, file_identity, stage_text
from .cancel import CancelToken, raise_if_stop_requested
from .defaults import QUALITY_NAMES
from .errors import OutputError, PlanError, Remedy
from .loop_plan import LoopPlan
from .flow_threads import flow_pool
from .seam import (SeamContext, SeamReport, StreamedFrames, inspect_loop, metric_width, plan_flow_steps,
                   source_frames_small)

FORMATS = {
    # name: (container suffix, needs even size, encoder arguments by quality)
    "mp4": (".mp4", True),
    "webm": (".webm", True),
    "mov": (".mov", True),
    "gif": (".gif", False),
}
QUALITIES = QUALITY_NAMES
_CRF_X264 = {"high": 16, "medium": 20, "small": 26}
# "veryfast" keeps the single encode at a third of a naive three-encode pipeline's time; at CRF 16 it
# beats that pipeline's SSIM by a wide margin (bench/bench_analysis_export.py).
_PRESET_X264 = {"high": "veryfast", "medium": "veryfast", "small": "fast"}
_CRF_VP9 = {"high": 24, "medium": 31, "small": 38}
_PRORES_PROFILE = {"high": 3, "medium": 2, "small": 0}  # HQ, standard, proxy


@dataclass
class ExportResult:
    path: Path
    sidecar_path: Path
    report: SeamReport
    plan: LoopPlan


def format_for(out: Path, fmt: str | None) -> str:
    if fmt:
        fmt = fmt.lower()
        if fmt not in FORMATS:
            raise OutputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
        return fmt
    suffix = out.suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    raise OutputError(f"cannot tell the format from {out.name!r}; name it .mp4, .webm, .mov or .gif",
                      remedy=Remedy.NAME_FORMAT)


_CROP_EVEN = "crop=trunc(iw/2)*2:trunc(ih/2)*2:0:0"  # the last column and row of an odd size dropped


def filter_graph(plan: LoopPlan, fmt: str, colour_tags: str = "") -> str:
    """The whole loop as one filter graph ending in [v]. `colour_tags` (VideoInfo.colour_tags): the source's,
    given to a morph's raw transition frames so that they join the body unconverted."""
    if plan.strategy == "pingpong":
        m = plan.span
        core = (
            f"[0:v]trim=start_frame={plan.first}:end_frame={plan.last + 1},setpts=PTS-STARTPTS,split[fw][rv];"
            f"[rv]reverse,trim=start_frame=1:end_frame={m - 1},setpts=PTS-STARTPTS[bw];"
            f"[fw][bw]concat=n=2:v=1:a=0"
        )
    elif plan.strategy == "crossfade":
        # blend + concat rather than xfade: xfade never reaches the pure head frame, which leaves
        # 1/K of the tail visible at the wrap; here the last frame is the head frame itself.
        # Fade frame j shows the head frame with weight (j + 1) / K. One constant-opacity blend per fade
        # frame: blend's per-pixel expression (all_expr) cost ten times the rest of the export at 1080p.
        k, tail = plan.crossfade_frames, plan.last - plan.crossfade_frames + 1

        def one(label: str, frame: int) -> str:
            return f"[{label}]trim=start_frame={frame}:end_frame={frame + 1},setpts=PTS-STARTPTS[{label}o];"

        fades = "".join(
            one(f"t{j}", tail + j) + one(f"h{j}", plan.first - k + j)
            + f"[t{j}o][h{j}o]blend=all_mode=normal:all_opacity={1 - (j + 1) / k:.6f}[f{j}];"
            for j in range(k))
        core = (
            f"[0:v]split={1 + 2 * k}[a]" + "".join(f"[t{j}][h{j}]" for j in range(k)) + ";"
            f"[a]trim=start_frame={plan.first}:end_frame={tail},setpts=PTS-STARTPTS[body];"
            + fades + "[body]" + "".join(f"[f{j}]" for j in range(k)) + f"concat=n={k + 1}:v=1:a=0,"
            # one-frame segments carry no duration: number the frames afresh at the source rate
            f"setpts=N*{plan.fps.denominator}/{plan.fps.numerator}/TB"
        )
    elif plan.strategy == "morph":
        # The body straight from the source; the K transition frames from stdin (input 1), after one
        # placeholder frame that lets ffmpeg set up the graph and encode the body while Python makes them.
        k, tail = plan.crossfade_frames, plan.last - plan.crossfade_frames + 1
        # concat takes one size and format: the transition's (even size I420, morph.even_size), then the encode's.
        # The body passes through I420 too, so both halves are converted alike (else a 4:4:4 source's body
        # keeps chroma its transition lost: a step at the wrap, seen on a GIF).
        same = "setsar=1,format=yuv420p" + ("" if _branch_format(fmt) == "yuv420p" else f",format={_branch_format(fmt)}")
        even = _CROP_EVEN + ","
        # Raw frames carry no colour tags: untagged, the graph would convert them to the body's BT.709 as if
        # they were BT.601 (~2 luma levels darker on a tagged HD clip: a 4-6x step at the wrap, LivePortrait
        # d9, d13; docs/seamless-loops.md, "Colour tags")
        tags = f"setparams={colour_tags}," if colour_tags else ""
        core = (
            f"[0:v]trim=start_frame={plan.first}:end_frame={tail},setpts=PTS-STARTPTS,{even}{same}[body];"
            f"[1:v]{tags}trim=start_frame=1,setpts=PTS-STARTPTS,{same}[morph];"
            f"[body][morph]concat=n=2:v=1:a=0,setpts=N*{plan.fps.denominator}/{plan.fps.numerator}/TB"
        )
    else:
        raise PlanError(f"cannot export strategy {plan.strategy!r}")
    # Exactly N frames at the source rate, whatever the filters' timestamp rounding did.
    post = f",fps={plan.fps.numerator}/{plan.fps.denominator},trim=end_frame={plan.output_frames},setsar=1"
    if FORMATS[fmt][1]:
        post += "," + _CROP_EVEN
    if fmt == "gif":
        return core + post + ",split[g1][g2];[g1]palettegen=stats_mode=full[pal];[g2][pal]paletteuse=dither=sierra2_4a[v]"
    return core + post + f",format={_branch_format(fmt)}[v]"


def _branch_format(fmt: str) -> str:
    """The pixel format the loop's frames are encoded in (GIF: RGB, before its palette)."""
    return {"mp4": "yuv420p", "webm": "yuv420p", "mov": "yuv422p10le", "gif": "rgb24"}[fmt]


KEYFRAMES = ("auto", "all")  # "all": every frame a keyframe (all-intra), for players that need it
# Keyframe pulse (docs/seamless-loops.md, "Encoder settings against the keyframe pulse"): frame 0 is coded
# afresh as an I-frame while the last frame ends a chain of predictions, so on a still, grainy face the
# wrap step is 2x a normal step. x264 zones give frame 0 and the last frames a lower QP (offsets from the
# CRF below), so both ends sit close to the source; trellis lowers the error per bit; one keyframe per loop.
# Large frames need less (their pulse is smaller at 160 px and each low-QP frame costs more), measured:
# (most pixels, frame 0 offset, offsets of the last frames: a ramp so the step into the last frame stays small)
_X264_ZONES = ((1_000_000, -7, (-5, -8, -11)), (None, -3, (-3, -6)))
_VP9_KEYINT_MAX = 9999


def x264_params(frames: int | None, crf: int, keyframes: str = "auto", pixels: int | None = None,
                dump_yuv: Path | None = None) -> str:
    """The -x264-params of a loop of `frames` frames of `pixels` each (bench/bench_loop_encode.py measured these);
    `dump_yuv`: where x264 writes its reconstruction of every frame (_EncoderRecon)."""
    dump = [f"dump-yuv={dump_yuv}"] if dump_yuv is not None else []
    if keyframes == "all":
        return ":".join(["keyint=1", *dump])
    params = ["ipratio=1", "trellis=1", "partitions=none", "scenecut=0", *dump]
    if frames is None:
        return ":".join(params)
    params.insert(0, f"keyint={frames}")
    head, tail = next((h, t) for most, h, t in _X264_ZONES if most is None or (pixels or 0) <= most)
    tail = tail[max(0, len(tail) - (frames - 1)):]  # never over frame 0
    zones = [(0, crf + head)] + [(frames - len(tail) + j, crf + dq) for j, dq in enumerate(tail)]
    params.append("zones=" + "/".join(f"{f},{f},q={max(q, 1)}" for f, q in zones))
    return ":".join(params)


def _check_encoder_choice(quality: str, keyframes: str) -> None:
    """A clear error for a quality or keyframes choice the encoders do not know."""
    if quality not in QUALITIES:
        raise OutputError(f"unknown quality {quality!r}; choose one of {', '.join(QUALITIES)}")
    if keyframes not in KEYFRAMES:
        raise OutputError(f"unknown keyframes {keyframes!r}; choose one of {', '.join(KEYFRAMES)}")


def encoder_args(fmt: str, quality: str, frames: int | None = None, keyframes: str = "auto",
                 pixels: int | None = None, dump_yuv: Path | None = None) -> list[str]:
    """Encoder arguments for a loop of `frames` output frames (None: unknown, no per-frame zones) of `pixels`;
    `dump_yuv` (mp4 only): the file x264 writes its reconstructed frames to."""
    _check_encoder_choice(quality, keyframes)
    if fmt == "mp4":
        crf = _CRF_X264[quality]
        return ["-c:v", "libx264", "-preset", _PRESET_X264[quality], "-crf", str(crf),
                "-x264-params", x264_params(frames, crf, keyframes, pixels, dump_yuv), "-movflags", "+faststart", "-f", "mp4"]
    if fmt == "webm":
        # one keyframe per loop (libvpx would place one every 128 frames), or every frame one
        g = 1 if keyframes == "all" else (frames or _VP9_KEYINT_MAX)
        return ["-c:v", "libvpx-vp9", "-b:v", "0", "-crf", str(_CRF_VP9[quality]), "-row-mt", "1",
                "-deadline", "good", "-cpu-used", "4", "-g", str(g), "-f", "webm"]
    if fmt == "mov":  # ProRes is all-intra already: no pulse (measured)
        return ["-c:v", "prores_ks", "-profile:v", str(_PRORES_PROFILE[quality]), "-f", "mov"]
    return ["-loop", "0", "-f", "gif"]


def loop_graph_args(graph: str) -> list[str]:
    """The loop's filter graph and its output [v], every frame as the graph makes it (no audio)."""
    return ["-filter_complex", graph, "-map", "[v]", "-an", "-fps_mode", "passthrough"]


def loop_inputs(source: Path, info: media.VideoInfo, plan: LoopPlan, fmt: str, cancel: CancelToken | None = None):
    """FFmpeg input arguments, the filter graph ending in [v] and the stdin frames (morph) of the loop."""
    inputs, frames = ["-i", str(source)], None
    graph = filter_graph(plan, fmt, info.colour_tags())
    if plan.strategy == "morph":
        width, height = morph.even_size(info)
        inputs += ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{width}x{height}",
                   "-framerate", f"{plan.fps.numerator}/{plan.fps.denominator}", "-i", "pipe:0"]
        placeholder = np.zeros((height * 3 // 2, width), np.uint8)  # trimmed by the graph (filter_graph)
        frames = itertools.chain([placeholder], _made_ahead(morph.transition_frames(source, info, plan, cancel=cancel)))
    if info.vfr:  # the plan counts frames of the clip resampled to its constant rate (media.VideoInfo)
        graph = f"[0:v]{media.constant_rate_filter(info)}[cfr];" + graph.replace("[0:v]", "[cfr]", 1)
    return inputs, graph, frames


def _made_ahead(frames):
    """`frames`, made on a thread of their own as fast as they can be: ffmpeg takes the transition frames
    only once the body is encoded, and a feeder that made them as it wrote would sit blocked on the full pipe
    until then, and only then start making the rest (they are few: K frames)."""
    import queue

    made: queue.Queue = queue.Queue()
    done = object()

    def make() -> None:
        try:
            for frame in frames:
                made.put(frame)
            made.put(done)
        except BaseException as exc:  # noqa: BLE001 - raised where the frames are taken
            made.put(exc)

    threading.Thread(target=make, name="morph-frames", daemon=True).start()
    while True:
        item = made.get()
        if item is done:
            return
        if isinstance(item, BaseException):
            raise item
        yield item


def _encoded_size(info: media.VideoInfo, fmt: str, even: bool = False) -> tuple[int, int]:
    """The loop file's frame size: the graph crops to even sizes (for the format, or a morph's I420)."""
    width, height = info.width, info.height
    if FORMATS[fmt][1] or even:
        width, height = width - width % 2, height - height % 2
    return width, height


def _metric_size(width: int, height: int) -> tuple[int, int]:
    """The size the seam report measures a `width` x `height` file at (as seam.source_frames_small)."""
    return media.scaled_size(width, height, metric_width(width))


def _metric_filter(width: int, height: int) -> str:
    """The filters that make the seam report's frames from decoded ones: the bytes source_frames_small reads."""
    return f"scale={width}:{height}:flags=area,format=gray"


class _LoopbackFrames:
    """The written file's small gray frames from the encode's own run (docs/performance.md, "Seam report
    from the encode"): ffmpeg's loopback decoder (`-dec`, FFmpeg >= 7.1) decodes the encoder's packets, the
    ones the file holds, and writes them area-scaled to `seam.METRIC_WIDTH` to a pipe: the bytes
    `seam.source_frames_small` decodes from the file, without a second 1080p decode afterwards. POSIX only,
    and only with an ffmpeg that has loopback decoders (`ffmpeg.has_loopback_decoder`)."""

    def __init__(self, info: media.VideoInfo, fmt: str, even: bool, steps: set[int]):
        self.width, self.height = _metric_size(*_encoded_size(info, fmt, even))
        self.stream = StreamedFrames(steps=steps)  # the frames, and their flows computed while the encode runs
        self._read, self._write = os.pipe()
        self._thread: threading.Thread | None = None

    def args(self) -> list[str]:
        """Output arguments, after the loop's own output (output 0, stream 0)."""
        return ["-dec", "0:0", "-filter_complex",
                f"[dec:0]{_metric_filter(self.width, self.height)}[seam]",
                "-map", "[seam]", "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "gray",
                f"pipe:{self._write}"]

    def start(self) -> None:
        """Read the pipe from a thread (call once ffmpeg holds the write end)."""
        os.close(self._write)
        self._write = -1
        stream = os.fdopen(self._read, "rb")
        self._read = -1
        media.widen_pipe(stream)
        self._thread = threading.Thread(target=media.read_gray_stream, name="seam-frames",
                                        args=(stream, self.width, self.height, self.stream), daemon=True)
        self._thread.start()

    def result(self) -> StreamedFrames:
        """The frames and their flows, once ffmpeg has finished."""
        self.close()
        return self.stream

    def close(self) -> None:
        for fd in (self._read, self._write):
            if fd >= 0:
                os.close(fd)
        self._read = self._write = -1
        if self._thread is not None:
            self._thread.join(timeout=10)


def _sweep_dead_recons(folder: str) -> None:
    """Remove the reconstruction dumps of exports that were killed (SIGKILL runs no cleanup): a 1080p loop's
    dump is 370 MB. Each dump's name holds its process id; only those of processes that are gone go."""
    import re
    import time

    for entry in os.scandir(folder):
        match = re.fullmatch(r"navtalk-recon-(\d+)-.+\.yuv", entry.name)
        if not match or int(match.group(1)) == os.getpid():
            continue
        try:
            if os.name == "posix":
                try:
                    os.kill(int(match.group(1)), 0)
                    continue  # that export is still running
                except ProcessLookupError:
                    pass
                except PermissionError:
                    continue  # another user's live process
            elif time.time() - entry.stat().st_mtime < 24 * 3600:
                continue  # no cheap liveness check: only day-old dumps
            os.unlink(entry.path)
        except OSError:
            pass


class _EncoderRecon:
    """The written file's small gray frames from x264's own reconstruction (docs/performance.md, "Seam report
    from the encoder's reconstruction"). x264 predicts every frame from the frames a decoder of the file will
    rebuild, and `dump-yuv` writes exactly those: bit for bit what decoding the file gives. One ffmpeg pass
    then scales them as the seam report's frames are scaled (a rawvideo read and a scale: ~0.15 CPU-s for a
    1080p loop, where decoding the file beside the encode costs ~1 CPU-s). The dump is a full-size YUV file
    (x264 seeks in it, so no pipe); where it would not fit in the temporary folder, or its path cannot be
    spelt in -x264-params, `make` gives None and the export decodes its packets instead (_LoopbackFrames)."""

    MAX_BYTES = 2 << 30

    def __init__(self, path: Path, width: int, height: int, frames: int, steps: set[int]):
        self.path, self.width, self.height, self.frames, self.steps = path, width, height, frames, steps

    @classmethod
    def make(cls, info: media.VideoInfo, fmt: str, even: bool, frames: int, steps: set[int]) -> "_EncoderRecon | None":
        import shutil
        import tempfile

        if fmt != "mp4":
            return None
        width, height = _encoded_size(info, fmt, even)
        size = width * height * 3 // 2 * frames
        folder = tempfile.gettempdir()
        try:
            if size > cls.MAX_BYTES or shutil.disk_usage(folder).free < 2 * size:
                return None
            _sweep_dead_recons(folder)
            handle, name = tempfile.mkstemp(prefix=f"navtalk-recon-{os.getpid()}-", suffix=".yuv", dir=folder)
        except OSError:
            return None
        os.close(handle)
        if any(c in name for c in ":=,\\"):  # separators of ffmpeg's -x264-params
            os.unlink(name)
            return None
        return cls(Path(name), width, height, frames, steps)

    def result(self, cancel: CancelToken | None = None) -> StreamedFrames | None:
        """The frames, scaled from the dump, with their flows (computed on the flow threads as the frames arrive),
        or None when x264 wrote fewer frames than the file holds."""
        import subprocess

        frame_bytes = self.width * self.height * 3 // 2
        try:
            if self.path.stat().st_size != frame_bytes * self.frames:
                return None
        except OSError:
            return None
        small_w, small_h = _metric_size(self.width, self.height)
        proc = ffmpeg.popen(["-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "yuv420p",
                             "-s", f"{self.width}x{self.height}", "-i", str(self.path),
                             "-vf", _metric_filter(small_w, small_h), "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        stream = StreamedFrames(flow_pool(), self.steps)
        try:
            media.read_gray_stream(proc.stdout, small_w, small_h, stream)
        finally:
            proc.wait()
        if cancel is not None:
            cancel.raise_if_cancelled()
        if proc.returncode != 0 or len(stream.frames) != self.frames:
            return None
        return stream

    def __enter__(self) -> "_EncoderRecon":
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.path.unlink()
        except OSError:
            pass


def sidecar_path_for(out: Path) -> Path:
    return out.with_name(out.name + ".json")


def export_loop(
    source: Path | str,
    plan: LoopPlan,
    out: Path | str,
    fmt: str | None = None,
    quality: str = "high",
    on_progress: Callable[[float], None] | None = None,
    cancel: CancelToken | None = None,
    info: media.VideoInfo | None = None,
    extra: dict | None = None,
    source_hash: str | None = None,
    context: SeamContext | None = None,
    source_frames=None,
    keyframes: str = "auto",
    predicted: SeamReport | None = None,
) -> ExportResult:
    """Encode the loop to `out` (appearing only when complete), measure its seam, write the sidecar.

    Pass the `info` and `source_hash` the analysis already has: the source is then neither probed nor
    hashed again. The seam report measures the encoded file and compares it with the plan predicted from
    the source frames (`source_frames`: all of them, small and gray, when the caller has them; else the
    plan's range is decoded); `context` (SeamContext.from_analysis) adds the face region and the blinks.
    `predicted`: the prediction the planner made for this very plan from those frames (PlanChoice.prediction),
    so it is not made twice.
    """
    source, out = Path(source), Path(out)
    info = info or media.probe(source)
    if info.frame_count != plan.source_frames:
        raise PlanError(f"the plan was made for {plan.source_frames} frames but {source.name} has {info.frame_count}")
    fmt = format_for(out, fmt)
    check_output_path(out)
    ensure_not_source(out, source)
    ensure_not_source(sidecar_path_for(out), source, what="sidecar")
    ensure_not_source(out, sidecar_path_for(source), role="sidecar of the input", short="input's sidecar")
    inputs, graph, frames = loop_inputs(source, info, plan, fmt, cancel)
    even = plan.strategy == "morph"
    _check_encoder_choice(quality, keyframes)  # fails before any file exists
    steps = plan_flow_steps(plan)  # the file's flow the report needs
    recon = _EncoderRecon.make(info, fmt, even, plan.output_frames, steps)
    args = ["-y", *inputs, *loop_graph_args(graph),
            *encoder_args(fmt, quality, plan.output_frames, keyframes, info.width * info.height,
                          recon.path if recon else None)]
    offset = 0
    loopback = (_LoopbackFrames(info, fmt, even, steps) if recon is None and os.name == "posix"
                and ffmpeg.has_loopback_decoder() else None)
    sidecar = sidecar_path_for(out)
    before, staged = file_identity(out), None
    try:
        with atomic_output(out) as tmp, ThreadPoolExecutor(1) as pool, recon or nullcontext():
            if source_frames is None:  # the prediction's source frames, decoded while the encode runs
                offset = plan.source_range[0]
                pending = pool.submit(source_frames_small, source, info, offset, plan.source_range[1] + 1)
            try:
                ffmpeg.run([*args, str(tmp), *(loopback.args() if loopback else [])],
                           total_frames=plan.output_frames,
                           on_progress=(lambda p: on_progress(0.9 * p)) if on_progress else None,
                           cancel=cancel, what="loop export", stdin_frames=frames,
                           pass_fds=(loopback._write,) if loopback else (),
                           on_started=loopback.start if loopback else None)
                probed = pool.submit(media.probe, tmp)  # the report's probe of the file, beside the frames' pass
                measured = recon.result(cancel) if recon else None
            finally:
                if loopback:
                    measured = loopback.result()
            if source_frames is None:
                source_frames = pending.result()
            report = inspect_loop(tmp, plan, context=context, source_frames=source_frames, source_offset=offset,
                                  file_frames=np.stack(measured.frames) if measured and measured.frames else None,
                                  predicted=predicted, file_flows=measured.flows if measured else None,
                                  info=probed.result())
            staged = stage_text(sidecar, strict_json.dumps({  # written before the loop is in place
                "output": str(out.resolve()),
                "format": fmt,
                "quality": quality,
                "keyframes": keyframes,
                "source": {**info.to_dict(), "path": str(source.resolve()),
                           "sha256": source_hash or media.content_hash(source)},
                "plan": plan.to_dict(),
                "seam": report.to_dict(),
                "seam_context": (context or SeamContext()).to_dict(),  # so `inspect` finds the same warnings
                **(extra or {}),
            }) + "\n")
        raise_if_stop_requested()
        os.replace(staged, sidecar)  # the loop is in place: its sidecar follows at once
        staged = None
    except BaseException:
        if staged is not None:  # stopped between the two renames (a signal, a failing disk): neither stays
            with contextlib.suppress(OSError):
                os.unlink(staged)
            if file_identity(out) not in (None, before):
                with contextlib.suppress(OSError):
                    out.unlink()
        raise
    if on_progress:
        on_progress(1.0)
    return ExportResult(path=out, sidecar_path=sidecar, report=report, plan=plan)
