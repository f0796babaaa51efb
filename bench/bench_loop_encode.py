"""Encoder settings against the keyframe pulse (issue 9, point 1; docs/seamless-loops.md).

Every loop file starts on a keyframe and ends on a predicted frame: coded afresh, frame 0 can "pop" against
the last frame once a cycle. For each clip x strategy x encoder candidate this prints

- the wrap ratio: mean |dY| from the last decoded frame to the first, over the file's own median frame step,
  decoded to gray at full resolution and at 160 px width (target <= 1.3 for both; GIF exempt);
- the size ratio against a plain `libx264 -preset veryfast -crf 16` encode of the same frames (target <= 1.6);
- the encode time, and its ratio to the plain encode.

The measure is written here, independent of core/seam.py. The loop frames are rendered once per plan (the
export's own filter graph, to lossless raw video), so every candidate encodes the very same frames.

    .venv/bin/python bench/bench_loop_encode.py [--clips d18,d12,demo] [--only SUBSTRING] [--strategies auto,...]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("GLOG_minloglevel", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WRAP_TARGET, SIZE_TARGET = 1.3, 1.6
PLAIN = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "16"]


# --- the independent measure ------------------------------------------------------------------------------

def decoded_gray(exe: str, source: list[str], size: tuple[int, int], width: int | None = None) -> np.ndarray:
    """Every frame of the input (`-i FILE`, or raw input args) as 8-bit gray (n, h, w), at full size or
    scaled to `width` (area average)."""
    w, h = size
    vf = []
    if width:
        w, h = width, max(2, int(round(h * width / w / 2)) * 2)
        vf = ["-vf", f"scale={w}:{h}:flags=area"]
    raw = subprocess.run([exe, "-v", "error", *source, *vf, "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w)


def step_ratios(frames: np.ndarray) -> tuple[float, float]:
    """(wrap, last): mean |dY| last -> first frame, and into the last frame, over the median frame step."""
    y = frames.astype(np.int16)
    steps = np.abs(np.diff(y, axis=0)).mean(axis=(1, 2))
    median = max(float(np.median(steps)), 1e-6)
    return float(np.abs(y[0] - y[-1]).mean()) / median, float(steps[-1]) / median


# --- candidates -------------------------------------------------------------------------------------------

def x264(params: str = "", crf: int = 16, preset: str = "veryfast"):
    """A libx264 candidate; `params` may use {n} (output frames), {last} (n - 1) and {tail:K} (n - K)."""
    def args(n: int, pixels: int = 0) -> list[str]:
        p = params
        for k in range(1, 40):
            p = p.replace(f"{{tail:{k}}}", str(max(0, n - k)))
        p = p.format(n=n, last=n - 1)
        return ["-c:v", "libx264", "-preset", preset, "-crf", str(crf), *(["-x264-params", p] if p else [])]
    return "mp4", args


def vp9(extra: str = "", crf: int = 24):
    def args(n: int, pixels: int = 0) -> list[str]:
        more = extra.format(n=n).split()
        return ["-c:v", "libvpx-vp9", "-b:v", "0", "-crf", str(crf), "-row-mt", "1", "-deadline", "good",
                "-cpu-used", "4", *more]
    return "webm", args


def prores(profile: int = 3):
    return "mov", lambda n, pixels=0: ["-c:v", "prores_ks", "-profile:v", str(profile), "-pix_fmt", "yuv422p10le"]


def project_default(fmt: str, keyframes: str = "auto"):
    """What core/export.py encodes (without the container flags)."""
    from navtalk_desktop.core.export import encoder_args

    def args(n: int, pixels: int) -> list[str]:
        a = encoder_args(fmt, "high", n, keyframes, pixels)
        cut = a.index("-f")
        a = a[:cut] + a[cut + 2:]
        a = [x for x in a if x != "+faststart" and x != "-movflags"]
        return a + (["-pix_fmt", "yuv422p10le"] if fmt == "mov" else [])
    return fmt, args


def project_variant(change: dict[str, str]):
    """The project's MP4 settings with some x264 parameters changed (name -> value)."""
    fmt, default = project_default("mp4")

    def args(n: int, pixels: int) -> list[str]:
        a = default(n, pixels)
        i = a.index("-x264-params") + 1
        params = dict(kv.split("=", 1) for kv in a[i].split(":"))
        a[i] = ":".join(f"{k}={v}" for k, v in {**params, **change}.items())
        return a
    return fmt, args


Z_OLD = "zones={tail:10},{last},b=2.0"  # the lost attempt: a lower QP over the last 10 frames
Z_END = "zones=0,0,q=9/{tail:3},{tail:3},q=11/{tail:2},{tail:2},q=8/{last},{last},q=5"  # frame 0 + 3-frame ramp
Z_END8 = "zones=0,0,q=8/{tail:5},{tail:5},q=14/{tail:4},{tail:4},q=12/{tail:3},{tail:3},q=10/{tail:2},{last},q=8"
CANDIDATES = {
    "x264 plain crf16 (old export.py)": x264(),
    "x264 flat ip/pb=1": x264("ipratio=1.0:pbratio=1.0"),
    "x264 flat no-mbtree": x264("ipratio=1.0:pbratio=1.0:mbtree=0"),
    "x264 flat no-mbtree grain": x264("ipratio=1.0:pbratio=1.0:mbtree=0:deadzone-inter=6:deadzone-intra=6:fast-pskip=0"),
    "x264 qcomp0.8": x264("qcomp=0.8"),
    "x264 deadzone-inter11": x264("deadzone-inter=11"),
    "x264 nr100": x264("nr=100"),
    "x264 tail10 b2 (lost attempt)": x264(Z_OLD),
    "x264 head+tail5 q8 ramp": x264("ipratio=1:" + Z_END8),
    "x264 head+tail5 q8 ramp no-mbtree": x264("ipratio=1:pbratio=1:mbtree=0:" + Z_END8),
    "x264 head q9 tail 11,8,5": x264("ipratio=1:keyint={n}:scenecut=0:" + Z_END),
    "x264 head q9 tail 11,8,5 aq3": x264("ipratio=1:aq-mode=3:keyint={n}:scenecut=0:" + Z_END),
    "x264 head q9 tail 11,8,5 aq0.6": x264("ipratio=1:aq-strength=0.6:keyint={n}:scenecut=0:" + Z_END),
    "x264 head q9 tail 11,8,5 trellis": x264("ipratio=1:trellis=1:keyint={n}:scenecut=0:" + Z_END),
    "x264 head q9 tail 11,8,5 faster": x264("ipratio=1:keyint={n}:scenecut=0:" + Z_END, preset="faster"),
    "x264 head q11 tail 13,10,7 trellis": x264("ipratio=1:trellis=1:keyint={n}:scenecut=0:" + Z_END.replace(
        "q=9/", "q=11/").replace("q=11/{tail:2}", "q=13/{tail:2}").replace("q=8/", "q=10/").replace("q=5", "q=7")),
    "x264 head b3 tail b2,3,5 trellis": x264("ipratio=1:trellis=1:keyint={n}:scenecut=0:zones=0,0,b=3/{tail:3},{tail:3},"
                                             "b=2/{tail:2},{tail:2},b=3/{last},{last},b=5"),
    "x264 all-intra": x264("keyint=1"),
    "x264 DEFAULT (export.py)": project_default("mp4"),
    "x264 --keyframes all (export.py)": project_default("mp4", "all"),
    # session 11: the analysis x264 spends most of its time on (veryfast: i4x4/i8x8 partitions, trellis)
    "x264 DEFAULT partitions=none": project_variant({"partitions": "none"}),
    "x264 DEFAULT trellis=0": project_variant({"trellis": "0"}),
    "x264 DEFAULT partitions=none trellis=0": project_variant({"partitions": "none", "trellis": "0"}),
    "x264 DEFAULT subme=1": project_variant({"subme": "1"}),
    "vp9 crf24 (old export.py)": vp9(),
    "vp9 g=n": vp9("-g {n}"),
    "vp9 g=n no-altref": vp9("-g {n} -auto-alt-ref 0 -lag-in-frames 0"),
    "vp9 g=n film": vp9("-g {n} -tune-content film"),
    "vp9 g=n no-tpl": vp9("-g {n} -enable-tpl 0"),
    "vp9 all-intra": vp9("-g 1"),
    "vp9 DEFAULT (export.py)": project_default("webm"),
    "prores hq DEFAULT (export.py)": project_default("mov"),
}


# --- clips and plans --------------------------------------------------------------------------------------

def clips(work: Path, names: list[str]) -> dict[str, Path]:
    out = {}
    for name in names:
        if name == "demo":  # the demo's animated face (cli/demo_command.py)
            from navtalk_desktop.core.animator import AnimationSpec, render_face_video
            from navtalk_desktop.core.resources import sample_portrait

            out[name] = work / "demo_face.mp4"
            render_face_video(sample_portrait(), out[name], AnimationSpec(fps=25, duration=6.0, blink_times=(1.6, 4.2)))
        elif name in ("face720", "face1080"):  # bench_analysis_export.py's clip (1080): smooth, large, no grain
            from navtalk_desktop.core.animator import AnimationSpec, render_face_video
            from navtalk_desktop.core.resources import sample_portrait

            width = int(name[4:])
            out[name] = work / f"face_{width}p.mp4"
            render_face_video(sample_portrait(), out[name], AnimationSpec(width=width, height=width * 16 // 9, fps=30,
                                                                            duration=5.0, blink_times=(1.5, 3.6)))
        elif name == "fast":  # a talker faster than the fixtures: d12 mirrored, 1.25x (docs/seamless-loops.md)
            from navtalk_desktop.core import ffmpeg

            out[name] = work / "fast_talker.mp4"
            ffmpeg.run(["-y", "-i", str(ROOT / "tests" / "fixtures" / "liveportrait_d12.mp4"), "-vf",
                        "hflip,setpts=PTS/1.25,fps=25", "-an", "-c:v", "libx264", "-crf", "18", "-pix_fmt", "yuv420p",
                        str(out[name])])
        else:
            out[name] = ROOT / "tests" / "fixtures" / f"liveportrait_{name}.mp4"
    return out


def plans(clip: Path, strategies: list[str]):
    from navtalk_desktop.core import pipeline

    analysis = pipeline.analyse(clip)
    for strategy in strategies:
        choice = pipeline.choose(analysis, clip, pipeline.LoopRequest(strategy=strategy))
        label = strategy if strategy != "auto" else f"auto={choice.plan.strategy}"
        yield label, analysis.info, choice.plan


def render_raw(clip: Path, info, plan, raw: Path) -> tuple[int, int]:
    """The loop's frames, exactly as export_loop filters them, as raw yuv420p."""
    from navtalk_desktop.core import ffmpeg
    from navtalk_desktop.core.export import loop_graph_args, loop_inputs

    inputs, graph, frames = loop_inputs(clip, info, plan, "mp4")
    ffmpeg.run(["-y", *inputs, *loop_graph_args(graph), "-f", "rawvideo", "-pix_fmt", "yuv420p", str(raw)], stdin_frames=frames, what="bench raw")
    return info.width // 2 * 2, info.height // 2 * 2


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", default="d18,d12,demo")
    ap.add_argument("--strategies", default="auto,pingpong,crossfade,morph")
    ap.add_argument("--only", default="", help="comma-separated substrings of candidate names")
    args = ap.parse_args()
    from navtalk_desktop.core import ffmpeg

    exe = ffmpeg.ffmpeg_exe()
    work = Path(tempfile.mkdtemp(prefix="navtalk-bench-enc-"))
    os.environ.setdefault("NAVTALK_CACHE_DIR", str(work / "cache"))
    only = [s for s in args.only.split(",") if s]
    chosen = {k: v for k, v in CANDIDATES.items() if not only or any(s in k for s in only)}
    print(f"{'clip':5} {'plan':16} {'candidate':36} {'wrap':>5} {'w160':>5} {'last':>5} {'size':>5} {'time':>5}  ok"
          "\n(wrap, w160: wrap ratio at full size and 160 px; last: the step into the last frame, same units;"
          "\n size and time: vs the plain libx264 veryfast crf16 encode of the same frames)")
    for clip_name, clip in clips(work, args.clips.split(",")).items():
        for label, info, plan in plans(clip, args.strategies.split(",")):
            raw = work / "loop.yuv"
            w, h = render_raw(clip, info, plan, raw)
            n, fps = plan.output_frames, f"{plan.fps.numerator}/{plan.fps.denominator}"
            src = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{w}x{h}", "-framerate", fps, "-i", str(raw)]
            (sw, sl), (ss, _) = (step_ratios(decoded_gray(exe, src, (w, h), width)) for width in (None, 160))
            print(f"{clip_name:5} {label:16} {'(source frames)':36} {sw:5.2f} {ss:5.2f} {sl:5.2f}", flush=True)

            def encode(fmt: str, enc: list[str]) -> tuple[Path, float]:
                out = work / f"cand.{fmt}"
                t0 = time.perf_counter()
                subprocess.run([exe, "-v", "error", "-y", *src, *enc, str(out)], check=True)
                return out, time.perf_counter() - t0

            plain, t_plain = encode("mp4", PLAIN)
            plain_size = plain.stat().st_size
            for name, (fmt, make) in chosen.items():
                out, t = encode(fmt, make(n, w * h))
                full, last = step_ratios(decoded_gray(exe, ["-i", str(out)], (w, h)))
                small, _ = step_ratios(decoded_gray(exe, ["-i", str(out)], (w, h), 160))
                size = out.stat().st_size / plain_size
                ok = full <= WRAP_TARGET and small <= WRAP_TARGET and (fmt == "mov" or size <= SIZE_TARGET)
                print(f"{clip_name:5} {label:16} {name:36} {full:5.2f} {small:5.2f} {last:5.2f} {size:5.2f} "
                      f"{t / t_plain:5.2f}  {'yes' if ok else 'NO'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
