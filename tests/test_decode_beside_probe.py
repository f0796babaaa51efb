"""The landmark pass starts its decode before the probe (media.iter_fitted_frames_probing), so ffmpeg's
start overlaps the probe. It must give exactly the frames of the decode after the probe, and run that
decode instead whenever the probe shows the early one is not it (VFR, an odd size, no thumbnails wanted).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from navtalk_desktop.core import ffmpeg, media
from navtalk_desktop.core.errors import InputError
from navtalk_desktop.core.landmarks import ANALYSIS_MAX_SIDE, SMALL_FRAME_WIDTH, compute_landmarks

# Sizes whose fitted width or height land exactly on a half (1082x1920: 270.5 -> 540, Python's round
# half to even; ffmpeg's round() would give 542), sizes that fit already, odd ones and both orientations.
SIZES = [(1080, 1920), (1082, 1920), (1920, 1080), (1000, 1003), (1086, 1930), (960, 960), (962, 540),
         (1281, 721), (641, 481), (161, 90), (720, 1280), (3840, 2160)]


def _size_ffmpeg_gives(width: int, height: int, scale: str) -> tuple[int, int]:
    err = subprocess.run([ffmpeg.ffmpeg_exe(), "-hide_banner", "-f", "lavfi", "-i",
                          f"color=size={width}x{height}:rate=25:duration=0.04", "-vf", f"{scale},showinfo",
                          "-f", "null", "-"], capture_output=True, text=True, check=True).stderr
    w, h = re.search(r"\bs:(\d+)x(\d+)", err).groups()
    return int(w), int(h)


@pytest.mark.parametrize("width,height", SIZES)
def test_ffmpeg_sizes_the_early_decode_exactly_as_python_sizes_the_probed_one(width, height):
    fitted = media.fit_width(width, height, ANALYSIS_MAX_SIDE)
    expected = media.scaled_size(width, height, fitted) if fitted else (width, height)
    scale = f"{media._fit_scale_expr(ANALYSIS_MAX_SIDE)}:flags=fast_bilinear"
    assert _size_ffmpeg_gives(width, height, scale) == expected
    thumb = f"scale={media._thumb_size_expr(SMALL_FRAME_WIDTH)}:flags=area"
    assert _size_ffmpeg_gives(width, height, thumb) == media.thumb_size(width, height, SMALL_FRAME_WIDTH)


@pytest.fixture
def started(monkeypatch):
    """Every ffmpeg started, in order, as (kind, process): 'decode' writes raw frames, 'probe' lists packets."""
    procs: list = []
    real = ffmpeg.popen

    def popen(args, **kwargs):
        proc = real(args, **kwargs)
        procs.append(("decode" if "rawvideo" in args else "probe" if "framecrc" in args else "other", proc))
        return proc

    monkeypatch.setattr(ffmpeg, "popen", popen)
    return procs


def _landmarks_both_ways(path: Path, started: list, small_width=SMALL_FRAME_WIDTH, wanted=None):
    started.clear()  # not the ffmpeg that made the clip
    early = compute_landmarks(path, small_width=small_width, small_frames_wanted=wanted)
    kinds = [kind for kind, _ in started]
    assert all(proc.poll() is not None for _, proc in started)  # nothing left running
    started.clear()
    after = compute_landmarks(path, media.probe(path), small_width=small_width, small_frames_wanted=wanted)
    assert early.info == after.info
    np.testing.assert_array_equal(early.points, after.points)  # NaN where no face in both
    if after.small_frames is None:
        assert early.small_frames is None
    else:
        assert early.small_frames.shape == after.small_frames.shape
        assert (early.small_frames == after.small_frames).all()
    return early, kinds


@pytest.fixture(params=["portrait 1080x1920", "d12", "d18", "rotated 90", "webm", "prores mov"])
def clip(request, face_video_factory, fixtures_dir, tmp_path):
    if request.param.startswith("d"):
        return fixtures_dir / f"liveportrait_{request.param}.mp4"
    if request.param in ("webm", "prores mov"):  # no `ftyp` (stream analysis kept), and a 4:2:2 10-bit MOV
        out = tmp_path / ("clip.webm" if request.param == "webm" else "clip.mov")
        codec = (["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"] if request.param == "webm"
                 else ["-c:v", "prores_ks", "-profile:v", "2"])
        ffmpeg.run(["-y", "-i", str(fixtures_dir / "liveportrait_d12.mp4"), "-frames:v", "30", *codec, str(out)])
        return out
    path, _ = face_video_factory(width=1080, height=1920, fps=30, duration=1.0, blink_times=(0.5,))
    if request.param == "rotated 90":  # a phone's clip: stored 1080x1920, shown 1920x1080
        rotated = tmp_path / "rotated.mp4"
        ffmpeg.run(["-y", "-display_rotation:v", "90", "-i", str(path), "-c", "copy", str(rotated)])
        return rotated
    return path


def test_the_early_decode_gives_the_probed_decodes_frames_and_starts_first(clip, started):
    track, kinds = _landmarks_both_ways(clip, started)
    assert kinds == ["decode", "probe"]  # ffmpeg was decoding while the probe ran, and only once
    info = track.info
    assert track.points.shape[0] == info.frame_count and np.isfinite(track.points).all()
    assert track.small_frames.shape == (info.frame_count, *media.thumb_size(info.width, info.height, 160)[::-1])
    if clip.name == "rotated.mp4":
        assert (info.width, info.height) == (1920, 1080)


def test_a_vfr_source_is_decoded_again_at_its_constant_rate(tmp_path, fixtures_dir, started):
    vfr = tmp_path / "vfr.mp4"
    ffmpeg.run(["-y", "-i", str(fixtures_dir / "liveportrait_d18.mp4"), "-t", "2",
                "-vf", "select='lt(n,30)*not(mod(n,3))+gte(n,30)'", "-fps_mode", "vfr", "-an", "-c:v", "libx264",
                "-crf", "18", str(vfr)])
    track, kinds = _landmarks_both_ways(vfr, started)
    assert track.info.vfr
    assert kinds == ["decode", "probe", "decode"]  # the early decode (no fps filter) was stopped


def test_an_odd_frame_size_is_decoded_again_in_rgb(tmp_path, fixtures_dir, started):
    odd = tmp_path / "odd.mp4"
    ffmpeg.run(["-y", "-i", str(fixtures_dir / "liveportrait_d12.mp4"), "-frames:v", "12",
                "-vf", "scale=641:481", "-pix_fmt", "yuv444p", "-c:v", "libx264", "-crf", "18", str(odd)])
    track, kinds = _landmarks_both_ways(odd, started)
    assert (track.info.width, track.info.height) == (641, 481)
    assert kinds == ["decode", "probe", "decode"]
    assert track.small_frames.shape == (12, 120, 160)


def test_thumbnails_declined_after_the_probe_mean_a_decode_without_them(face_video_factory, started):
    path, _ = face_video_factory(width=1080, height=1920, fps=30, duration=1.0, blink_times=(0.5,))
    track, kinds = _landmarks_both_ways(path, started, wanted=lambda info: info.frame_count > 600)
    assert track.small_frames is None
    assert kinds == ["decode", "probe", "decode"]


def test_a_file_that_is_no_video_fails_as_the_probe_says_and_stops_the_early_decode(tmp_path, started):
    fake = tmp_path / "notes.mp4"
    fake.write_text("not a video at all\n" * 100)
    with pytest.raises(InputError, match="not a video file"):
        compute_landmarks(fake, small_width=SMALL_FRAME_WIDTH)
    assert [kind for kind, _ in started] == ["decode", "probe"]
    assert all(proc.poll() is not None for _, proc in started)


def test_an_early_decode_that_gives_nothing_is_replaced_by_the_probed_one(face_video_factory, started,
                                                                          monkeypatch):
    """Should ffmpeg refuse the early decode (here: a thumbnail size it cannot parse; the decode after the
    probe sizes them in numbers), the pass still gets every frame."""
    path, _ = face_video_factory(width=1080, height=1920, fps=30, duration=1.0, blink_times=(0.5,))
    monkeypatch.setattr(media, "_thumb_size_expr", lambda thumb_width: "w='nonsense(':h=2")
    track, kinds = _landmarks_both_ways(path, started)
    assert kinds == ["decode", "probe", "decode"]
    assert track.points.shape[0] == 30 and track.small_frames.shape == (30, 284, 160)
