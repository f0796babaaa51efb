"""Loop export with the real FFmpeg: exact frame counts, no repeated frames, formats, clamping, cancel."""

import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest

from navtalk_desktop.core import media
from navtalk_desktop.core.analysis import analyze_video
from navtalk_desktop.core.cancel import CancelToken
from navtalk_desktop.core.errors import CancelledError
from navtalk_desktop.core.export import export_loop
from navtalk_desktop.core.loop_plan import make_plan
from navtalk_desktop.core.seam import assemble, inspect_loop, source_frames_small


@pytest.mark.parametrize("fps", [24, 25, 30])
@pytest.mark.parametrize("strategy", ["pingpong", "crossfade", "morph"])
def test_exact_frames_and_no_repeats(face_video_factory, tmp_path, fps, strategy):
    source, truth = face_video_factory(fps=fps, duration=6.0, blink_times=(1.6, 4.2))
    info = media.probe(source)
    plan = make_plan(strategy, info.fps, info.frame_count, truth.apex_frames[0])
    out = tmp_path / f"loop_{strategy}.mp4"
    result = export_loop(source, plan, out)
    assert media.probe(out).frame_count == 4 * fps == plan.output_frames
    assert result.report.frame_count == plan.output_frames
    assert result.report.seam_duplicates == 0
    assert result.report.duplicate_frames == 0
    # The exported frames are the planned source frames, in order (frame-exact trims).
    small = source_frames_small(source, info)
    expected = assemble(plan, small).astype(float)
    got = source_frames_small(out, media.probe(out)).astype(float)
    errors = np.abs(got - expected).mean(axis=(1, 2))
    shifted = np.abs(got[1:] - expected[:-1]).mean(axis=(1, 2))
    if strategy == "morph":  # its transition is warped along flow found at 480 px here, at 160 px in `assemble`
        k = plan.crossfade_frames
        assert errors[:-k].max() < 2.0 and errors[-k:].max() < 3.0
    else:
        assert errors.max() < 2.0
    assert errors.mean() < shifted.mean()
    sidecar = json.loads(result.sidecar_path.read_text())
    assert sidecar["plan"]["output_frames"] == plan.output_frames
    assert sidecar["seam"]["frame_count"] == plan.output_frames
    assert sidecar["source"]["sha256"] == media.content_hash(source)


def test_pingpong_turns_show_velocity_reversal_crossfade_does_not(face_video_factory, tmp_path):
    source, truth = face_video_factory(fps=25, duration=6.0, blink_times=(1.6, 4.2))
    info = media.probe(source)
    pingpong = inspect_loop(export_loop(source, make_plan("pingpong", info.fps, info.frame_count, 75),
                                        tmp_path / "p.mp4").path, make_plan("pingpong", info.fps, info.frame_count, 75))
    assert min(pingpong.turn_cosines) < 0  # the head sway flips direction at a turn
    crossfade = export_loop(source, make_plan("crossfade", info.fps, info.frame_count, 40), tmp_path / "c.mp4")
    assert crossfade.report.seam_flow_cosine > 0


@pytest.mark.parametrize("fmt", ["mp4", "webm", "mov", "gif"])
def test_every_format_decodes_with_expected_frames(face_video_factory, tmp_path, fmt):
    source, truth = face_video_factory(fps=25, duration=6.0, blink_times=(1.6, 4.2))
    info = media.probe(source)
    plan = make_plan("crossfade", info.fps, info.frame_count, truth.apex_frames[0])
    out = tmp_path / f"loop.{fmt}"
    export_loop(source, plan, out, quality="small")
    probed = media.probe(out)
    assert probed.frame_count == plan.output_frames
    assert len(media.read_frames(out, probed, gray=True, scale_width=64)) == plan.output_frames


@pytest.mark.parametrize("point", [1, 148])
def test_window_clamped_at_both_ends(face_video_factory, tmp_path, point):
    source, _ = face_video_factory(fps=25, duration=6.0, blink_times=(1.6, 4.2))
    info = media.probe(source)
    for strategy in ("pingpong", "crossfade"):
        plan = make_plan(strategy, info.fps, info.frame_count, point)
        lo, hi = plan.source_range
        assert lo == 0 if point < 10 else hi == info.frame_count - 1
        out = tmp_path / f"{strategy}{point}.mp4"
        export_loop(source, plan, out)
        assert media.probe(out).frame_count == 100


def test_odd_frame_size(face_video_factory, tmp_path):
    source, truth = face_video_factory(width=361, height=481, fps=25, duration=6.0, blink_times=(1.6, 4.2))
    info = media.probe(source)
    assert (info.width, info.height) == (361, 481)
    plan = make_plan("crossfade", info.fps, info.frame_count, truth.apex_frames[0])
    for fmt in ("mp4", "gif"):
        out = tmp_path / f"odd.{fmt}"
        export_loop(source, plan, out)
        probed = media.probe(out)
        assert probed.frame_count == 100
        if fmt == "mp4":
            assert (probed.width, probed.height) == (360, 480)  # yuv420p needs even sizes: cropped, not scaled
        else:
            assert (probed.width, probed.height) == (361, 481)


@pytest.mark.parametrize("suffix", [".mov", ".mp4"])
def test_cancel_leaves_nothing(face_video_factory, tmp_path, monkeypatch, suffix):
    """Neither the output, its sidecar nor (mp4) x264's reconstruction dump in the temporary folder."""
    import tempfile

    source, truth = face_video_factory(fps=25, duration=6.0, blink_times=(1.6, 4.2))
    info = media.probe(source)
    plan = make_plan("crossfade", info.fps, info.frame_count, truth.apex_frames[0])
    cancel = CancelToken()
    out = tmp_path / "out" / f"cancelled{suffix}"
    out.parent.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    progress = []

    def on_progress(p):
        progress.append(p)
        cancel.cancel()

    timer = threading.Timer(0.3, cancel.cancel)
    timer.start()
    with pytest.raises(CancelledError):
        export_loop(source, plan, out, on_progress=on_progress, cancel=cancel)
    timer.cancel()
    assert list(out.parent.iterdir()) == [] and list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.parametrize("stop", [SystemExit(143), OSError(28, "No space left on device")])
def test_a_loop_never_stays_without_its_sidecar(face_video_factory, tmp_path, monkeypatch, stop):
    """A signal (SIGTERM unwinds as SystemExit) or a failing disk between the loop's rename and its sidecar's:
    neither stays (the loop used to be left without its sidecar)."""
    import os

    from navtalk_desktop.core import export

    source, truth = face_video_factory(fps=25, duration=6.0, blink_times=(1.6, 4.2))
    info = media.probe(source)
    plan = make_plan("pingpong", info.fps, info.frame_count, truth.apex_frames[0])
    out = tmp_path / "out" / "loop.mp4"
    out.parent.mkdir()
    replace = os.replace

    def stopped_at_the_sidecar(src, dst):
        if str(dst).endswith(".mp4.json"):
            raise stop
        return replace(src, dst)

    monkeypatch.setattr(export.os, "replace", stopped_at_the_sidecar)
    with pytest.raises(type(stop)):
        export_loop(source, plan, out)
    assert list(out.parent.iterdir()) == []


def test_auto_picks_a_crossfade_around_a_blink(face_video_factory, tmp_path):
    from navtalk_desktop.core.auto_loop import choose_plan, explain

    source, truth = face_video_factory(fps=25, duration=6.0, blink_times=(1.6, 4.2))
    analysis = analyze_video(source)
    plan, candidates = choose_plan(analysis, source)
    assert plan.loop_point in [e.apex for e in analysis.clean_events()]
    assert plan.strategy in ("crossfade", "morph")  # a ping-pong would play the blink backwards
    assert f"auto: chose {plan.strategy}" in explain(candidates)
    assert candidates == sorted(candidates, key=lambda c: c.cost)


def test_rotated_source_exports_upright(face_video_factory, tmp_path):
    from navtalk_desktop.core import ffmpeg

    source, truth = face_video_factory(width=480, height=320, fps=25, duration=6.0, blink_times=(1.6, 4.2))
    rotated = tmp_path / "rotated.mp4"
    ffmpeg.run(["-y", "-display_rotation", "90", "-i", str(source), "-c", "copy", str(rotated)])
    info = media.probe(rotated)
    assert (info.width, info.height) == (320, 480)
    plan = make_plan("crossfade", info.fps, info.frame_count, truth.apex_frames[0])
    out = tmp_path / "loop.mp4"
    export_loop(rotated, plan, out)
    probed = media.probe(out)
    assert (probed.width, probed.height, probed.rotation) == (320, 480, 0)
    assert probed.frame_count == 100


@pytest.mark.parametrize("fmt, strategy, size, keyframes", [
    ("mp4", "pingpong", (240, 320), "auto"), ("mp4", "morph", (240, 320), "auto"),
    ("mp4", "crossfade", (361, 481), "auto"), ("mp4", "crossfade", (240, 320), "all"),
    ("webm", "crossfade", (240, 320), "auto"), ("mov", "crossfade", (240, 320), "auto"),
    ("gif", "crossfade", (361, 481), "auto")])
def test_the_seam_report_measures_the_encoders_own_frames_without_decoding_the_file(
        face_video_factory, tmp_path, monkeypatch, fmt, strategy, size, keyframes):
    """The export hands the seam report the file's small gray frames without decoding the file again: from
    x264's reconstruction (mp4) or the loopback decode (the others; docs/performance.md). They are bit for bit
    what decoding the written file gives, and no reconstruction dump is left behind."""
    import tempfile

    from navtalk_desktop.core import export as export_module

    source, truth = face_video_factory(width=size[0], height=size[1], fps=25, duration=6.0, blink_times=(1.6, 4.2))
    info = media.probe(source)
    plan = make_plan(strategy, info.fps, info.frame_count, truth.apex_frames[0])
    seen, decoded, recon = {}, [], []
    real_inspect, real_iter = export_module.inspect_loop, media.iter_frames
    real_recon = export_module._EncoderRecon.result

    def inspect(path, *a, **k):
        seen["frames"] = k.get("file_frames")
        return real_inspect(path, *a, **k)

    def iter_frames(path, *a, **k):
        decoded.append(Path(path).resolve())
        return real_iter(path, *a, **k)

    def recon_result(self, *a, **k):
        recon.append(self.path)
        return real_recon(self, *a, **k)

    monkeypatch.setattr(export_module, "inspect_loop", inspect)
    monkeypatch.setattr(media, "iter_frames", iter_frames)
    monkeypatch.setattr(export_module._EncoderRecon, "result", recon_result)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    out = tmp_path / f"loop.{fmt}"
    result = export_loop(source, plan, out, source_frames=source_frames_small(source, info), keyframes=keyframes)
    assert decoded == [Path(source).resolve()] * (2 if strategy == "morph" else 1)  # the morph renders from it
    assert len(recon) == (1 if fmt == "mp4" else 0)
    assert not list((tmp_path / "tmp").iterdir())  # the dump is gone
    monkeypatch.setattr(media, "iter_frames", real_iter)
    from_file = source_frames_small(out, media.probe(out))
    assert seen["frames"] is not None and seen["frames"].shape == from_file.shape
    assert (seen["frames"] == from_file).all()  # bit for bit
    assert result.report.frame_count == plan.output_frames
    again = inspect_loop(out, plan, source_frames=source_frames_small(source, info))  # decodes the file
    assert again.to_dict() == result.report.to_dict()


@pytest.mark.parametrize("why", ["no room for the dump", "a short dump"])
def test_without_the_reconstruction_the_mp4_export_measures_its_packets(face_video_factory, tmp_path, monkeypatch,
                                                                        why):
    """No room for x264's dump (or a dump with frames missing): the loopback decode measures the file, or
    failing that the file is decoded, with the same report."""
    from navtalk_desktop.core import export as export_module

    source, truth = face_video_factory(fps=25, duration=6.0, blink_times=(1.6, 4.2))
    info = media.probe(source)
    plan = make_plan("crossfade", info.fps, info.frame_count, truth.apex_frames[0])
    frames = source_frames_small(source, info)
    with_recon = export_loop(source, plan, tmp_path / "a.mp4", source_frames=frames).report.to_dict()
    if why == "no room for the dump":
        monkeypatch.setattr(export_module._EncoderRecon, "MAX_BYTES", 1000)
    else:  # the dump holds one frame fewer than the file
        real_make = export_module._EncoderRecon.make.__func__

        def short_make(cls, *a):
            recon = real_make(cls, *a)
            recon.frames += 1
            return recon

        monkeypatch.setattr(export_module._EncoderRecon, "make", classmethod(short_make))
    loopback, decoded = [], []
    real_args, real_iter = export_module._LoopbackFrames.args, media.iter_frames
    monkeypatch.setattr(export_module._LoopbackFrames, "args", lambda self: loopback.append(1) or real_args(self))
    monkeypatch.setattr(media, "iter_frames", lambda path, *a, **k: decoded.append(path) or real_iter(path, *a, **k))
    without = export_loop(source, plan, tmp_path / "b.mp4", source_frames=frames).report.to_dict()
    if why == "no room for the dump":
        assert loopback == [1] and not decoded  # the loopback decode stood in
    else:
        assert loopback == [] and len(decoded) == 1 and str(decoded[0]).endswith(".mp4")  # the file, decoded
    assert without == with_recon


def test_an_ffmpeg_without_loopback_decoders_still_exports_and_measures_the_file(face_video_factory, tmp_path,
                                                                                monkeypatch):
    from navtalk_desktop.core import export as export_module
    from navtalk_desktop.core import ffmpeg

    source, truth = face_video_factory(fps=25, duration=6.0, blink_times=(1.6, 4.2))
    info = media.probe(source)
    plan = make_plan("crossfade", info.fps, info.frame_count, truth.apex_frames[0])
    frames = source_frames_small(source, info)
    with_dec = export_loop(source, plan, tmp_path / "a.mp4", source_frames=frames).report.to_dict()
    monkeypatch.setattr(ffmpeg, "has_loopback_decoder", lambda: False)  # e.g. NAVTALK_FFMPEG at FFmpeg 6
    monkeypatch.setattr(export_module._EncoderRecon, "make", classmethod(lambda cls, *a: None))
    decoded, real_iter = [], media.iter_frames
    monkeypatch.setattr(media, "iter_frames", lambda path, *a, **k: decoded.append(path) or real_iter(path, *a, **k))
    without = export_loop(source, plan, tmp_path / "b.mp4", source_frames=frames).report.to_dict()
    assert len(decoded) == 1 and str(decoded[0]).endswith(".mp4")  # the written file, decoded for its report
    assert without == with_dec


def test_a_killed_exports_reconstruction_dump_is_swept(face_video_factory, tmp_path, monkeypatch):
    """SIGKILL runs no cleanup: the next mp4 export removes dumps of processes that are gone, not live ones."""
    import subprocess
    import sys
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = tmp_path / "tmp" / f"navtalk-recon-{int(gone.stdout)}-abcd1234.yuv"
    live = tmp_path / "tmp" / f"navtalk-recon-{os.getppid()}-efgh5678.yuv"
    other = tmp_path / "tmp" / "someone-else.yuv"
    for path in (dead, live, other):
        path.write_bytes(b"\0" * 1024)
    source, truth = face_video_factory(fps=25, duration=6.0, blink_times=(1.6, 4.2))
    info = media.probe(source)
    export_loop(source, make_plan("pingpong", info.fps, info.frame_count, truth.apex_frames[0]), tmp_path / "l.mp4")
    assert sorted(p.name for p in (tmp_path / "tmp").iterdir()) == sorted([live.name, other.name])
