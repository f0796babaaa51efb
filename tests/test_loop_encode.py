"""No keyframe pulse at the wrap (issue 9, point 1; docs/seamless-loops.md), measured on the decoded file.

The measure here is independent of core/seam.py: ffmpeg decodes the loop to gray, at full size and at 160 px,
and the wrap step (mean |dY| last -> first frame) is compared with the file's own median frame step.
The real fixtures are used: d18 is the still, grainy clip where the pulse was 2x; d12 moves.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from navtalk_desktop.core import ffmpeg, media
from navtalk_desktop.core.errors import OutputError
from navtalk_desktop.core.export import encoder_args, export_loop, loop_inputs, x264_params
from navtalk_desktop.core.loop_plan import make_plan

FIXTURES = Path(__file__).parent / "fixtures"
WRAP_MAX, SIZE_MAX = 1.3, 1.6
PLAIN = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "16"]


def gray_frames(path: Path, size: tuple[int, int], width: int | None = None, raw_args: list[str] = ()) -> np.ndarray:
    w, h = size
    vf = []
    if width:
        w, h = width, max(2, int(round(h * width / w / 2)) * 2)
        vf = ["-vf", f"scale={w}:{h}:flags=area"]
    out = subprocess.run([ffmpeg.ffmpeg_exe(), "-v", "error", *raw_args, "-i", str(path), *vf, "-f", "rawvideo",
                          "-pix_fmt", "gray", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(out, np.uint8).reshape(-1, h, w)


def wrap_ratio(frames: np.ndarray) -> float:
    y = frames.astype(np.int16)
    steps = np.abs(np.diff(y, axis=0)).mean(axis=(1, 2))
    return float(np.abs(y[0] - y[-1]).mean() / np.median(steps))


def test_the_measure_finds_a_known_pulse(tmp_path):
    """Known answer: grain that changes by 1 level on a quarter of the pixels each frame, and a wrap where
    half of them change: the ratio is 2.0, through a lossless file and the ffmpeg decode."""
    rng = np.random.default_rng(0)
    frames = [np.full((64, 64), 120, np.uint8)]
    for _ in range(19):
        f = frames[-1].copy()
        f[rng.random((64, 64)) < 0.25] ^= 1  # flip the lowest bit: |step| = 1 on ~25 % of pixels
        frames.append(f)
    y = np.array(frames)
    first = y[0].astype(np.int16)
    assert abs(np.abs(y[-1].astype(np.int16) - first).mean() - 0.5) < 0.05  # a random walk of parities
    raw = tmp_path / "f.gray"
    y.tofile(raw)
    lossless = tmp_path / "f.mkv"
    subprocess.run([ffmpeg.ffmpeg_exe(), "-v", "error", "-f", "rawvideo", "-pix_fmt", "gray", "-s", "64x64",
                    "-framerate", "25", "-i", str(raw), "-c:v", "ffv1", str(lossless)], check=True)
    decoded = gray_frames(lossless, (64, 64))
    assert np.array_equal(decoded, y)
    assert wrap_ratio(decoded) == pytest.approx(2.0, abs=0.25)
    smooth = np.concatenate([y[:1], y[1:], y[:1] ^ (y[-1] & 0)])  # last frame = first frame: wrap step 0
    assert wrap_ratio(smooth) == 0


def encode_loop_frames(source: Path, info, plan, out: Path, args: list[str]) -> Path:
    """The loop's frames, as the export makes them, encoded with `args` (a plain encode, or lossless)."""
    inputs, graph, frames = loop_inputs(source, info, plan, "mp4")
    ffmpeg.run(["-y", *inputs, "-filter_complex", graph, "-map", "[v]", "-an", "-fps_mode", "passthrough",
                *args, str(out)], stdin_frames=frames)
    return out


# (fixture, strategy, loop point, format): the still clip in all three formats, the moving one in MP4. The
# windows are the ones `auto` finds good (d18 crossfade at 88 is its own pick): their source frames wrap
# smoothly, so any pulse in the file is the encoder's.
CASES = [
    ("liveportrait_d18.mp4", "crossfade", 88, "mp4"),
    ("liveportrait_d18.mp4", "pingpong", 120, "mp4"),
    ("liveportrait_d18.mp4", "crossfade", 88, "webm"),
    ("liveportrait_d18.mp4", "crossfade", 88, "mov"),
    ("liveportrait_d12.mp4", "morph", 46, "mp4"),
    # The morph's transition is made from the body's own samples (I420): made in RGB, it stepped 2.7x here.
    ("liveportrait_d18.mp4", "morph", 88, "mp4"),
]


@pytest.mark.parametrize("name,strategy,loop_point,fmt", CASES)
def test_default_export_has_no_keyframe_pulse(tmp_path, name, strategy, loop_point, fmt):
    source = FIXTURES / name
    info = media.probe(source)
    plan = make_plan(strategy, info.fps, info.frame_count, loop_point)
    size = (info.width // 2 * 2, info.height // 2 * 2)
    lossless = encode_loop_frames(source, info, plan, tmp_path / "lossless.mkv", ["-c:v", "ffv1"])
    assert wrap_ratio(gray_frames(lossless, size)) <= 1.1  # the window itself is smooth
    out = tmp_path / f"loop.{fmt}"
    export_loop(source, plan, out, info=info, source_hash="-")  # the default settings
    full, small = gray_frames(out, size), gray_frames(out, size, 160)
    assert len(full) == plan.output_frames
    assert wrap_ratio(full) <= WRAP_MAX, f"full-size wrap step {wrap_ratio(full):.2f}x the median step"
    assert wrap_ratio(small) <= WRAP_MAX, f"160 px wrap step {wrap_ratio(small):.2f}x the median step"
    if fmt != "mov":  # ProRes is all-intra and an order of magnitude larger by design
        plain = encode_loop_frames(source, info, plan, tmp_path / "plain.mp4", PLAIN)
        ratio = out.stat().st_size / plain.stat().st_size
        assert ratio <= SIZE_MAX, f"{ratio:.2f}x the size of a plain crf16 encode"


def test_keyframes_all_makes_every_frame_a_keyframe(tmp_path, annotations):
    name = "liveportrait_d12.mp4"
    source = FIXTURES / name
    info = media.probe(source)
    plan = make_plan("pingpong", info.fps, info.frame_count, annotations[name]["blinks"][0]["apex"], duration=1.0)
    for fmt, keyframes in (("mp4", "all"), ("webm", "all"), ("mp4", "auto")):
        out = tmp_path / f"loop_{keyframes}.{fmt}"
        result = export_loop(source, plan, out, info=info, source_hash="-", keyframes=keyframes)
        keys = gray_frames(out, (info.width, info.height), 64, raw_args=["-skip_frame", "nokey"])
        assert len(keys) == (plan.output_frames if keyframes == "all" else 1)
        assert json.loads(result.sidecar_path.read_text())["keyframes"] == keyframes


def test_zones_stay_inside_the_loop():
    for pixels in (480 * 480, 1080 * 1920):
        for n in range(1, 8):
            params = dict(p.split("=", 1) for p in x264_params(n, 16, pixels=pixels).split(":"))
            assert params["keyint"] == str(n)
            zones = [tuple(int(v.strip("q=")) for v in z.split(",")) for z in params["zones"].split("/")]
            frames = [z[0] for z in zones]
            assert frames == sorted(set(frames)) and frames[0] == 0 and frames[-1] == (n - 1 if n > 1 else 0)
            assert all(1 <= z[2] < 16 for z in zones)  # finer than the CRF, never lossless
    # large frames get the lighter zones bench/bench_loop_encode.py measured (each low-QP frame costs more)
    assert "zones=0,0,q=9/" in x264_params(120, 16, pixels=480 * 480)
    assert "zones=0,0,q=13/" in x264_params(120, 16, pixels=1080 * 1920)
    with pytest.raises(OutputError, match="keyframes"):
        encoder_args("mp4", "high", 100, "some")


def test_cli_keyframes_flag(tmp_path):
    out = tmp_path / "loop.mp4"
    proc = subprocess.run([sys.executable, "-m", "navtalk_desktop.cli.main", "export", str(FIXTURES / "liveportrait_d12.mp4"),
                           "--out", str(out), "--at", "2.0", "--strategy", "pingpong", "--duration", "1",
                           "--keyframes", "all"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    sidecar = json.loads((tmp_path / "loop.mp4.json").read_text())
    assert sidecar["keyframes"] == "all"
    keys = gray_frames(out, (512, 512), 64, raw_args=["-skip_frame", "nokey"])
    assert len(keys) == sidecar["plan"]["output_frames"] == 26
    bad = subprocess.run([sys.executable, "-m", "navtalk_desktop.cli.main", "export", str(FIXTURES / "liveportrait_d12.mp4"),
                          "--out", str(tmp_path / "x.mp4"), "--keyframes", "some"], capture_output=True, text=True)
    assert bad.returncode != 0 and "--keyframes" in bad.stderr and not (tmp_path / "x.mp4").exists()


def test_a_morph_of_a_full_chroma_odd_sized_source_converts_body_and_transition_alike(face_video_factory, tmp_path):
    """The morph's transition is made in I420 at even size; a 4:4:4 source's body must go through the same
    conversion, or its wrap steps where the transition's chroma differs (a GIF showed 1.71x before)."""
    source, truth = face_video_factory(width=362, height=482, fps=25, duration=6.0, blink_times=(1.6, 4.2))
    odd = tmp_path / "odd444.mkv"
    subprocess.run([ffmpeg.ffmpeg_exe(), "-v", "error", "-y", "-i", str(source), "-vf",
                    "format=yuv444p,crop=361:481:0:0", "-c:v", "ffv1", str(odd)], check=True)
    info = media.probe(odd)
    assert (info.width, info.height) == (361, 481)
    plan = make_plan("morph", info.fps, info.frame_count, truth.apex_frames[0])
    for fmt in ("gif", "mp4"):
        out = tmp_path / f"loop.{fmt}"
        report = export_loop(odd, plan, out, info=info, source_hash="-").report
        frames = gray_frames(out, (360, 480))
        assert len(frames) == plan.output_frames
        # GIF 0.84 here, 1.33 with the body converted straight to RGB; MP4 1.11 (x264's own pulse margin)
        limit = 1.1 if fmt == "gif" else WRAP_MAX
        assert wrap_ratio(frames) <= limit, (fmt, wrap_ratio(frames))
        assert "pulse" not in [w.kind for w in report.warnings], (fmt, report.warnings)
