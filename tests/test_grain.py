"""The grain measure (core/grain.py) and what the planner does with it: a crossfade thins a grainy face's grain
once a cycle, so auto takes the morph there, and keeps the plain crossfade on a face without grain."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from navtalk_desktop.core import ffmpeg, grain, media
from navtalk_desktop.core.analysis import analyze_video
from navtalk_desktop.core.auto_loop import plan_loop
from navtalk_desktop.core.export import export_loop
from navtalk_desktop.core.seam import SeamContext


def _texture(h: int = 200, w: int = 240, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = cv2.GaussianBlur(rng.uniform(0, 255, (h, w)).astype(np.float32), (0, 0), 3.0)
    return (img - img.min()) / (img.max() - img.min()) * 180 + 40


def _grain(shape, sigma: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, sigma, shape).astype(np.float32)


def _u8(img: np.ndarray) -> np.ndarray:
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def test_a_blend_of_independent_grain_thins_it():
    base = _texture()
    a, b = _u8(base + _grain(base.shape, 8, 1)), _u8(base + _grain(base.shape, 8, 2))
    detail = grain.blend_keeps(a, b)
    assert 0.68 < detail.kept < 0.8, detail  # independent grain at t = 0.5: ~0.71 of its amplitude
    assert detail.lost > 1.0 and detail.thins, detail


def test_detail_both_frames_share_is_kept():
    base = _texture()
    same = _u8(base + _grain(base.shape, 8, 1))
    detail = grain.blend_keeps(same, same.copy())
    assert detail.kept > 0.99 and not detail.thins, detail


def test_faint_grain_is_too_little_to_show():
    """Independent grain of sigma 0.7 on a smooth picture is thinned as much, but loses well under half a gray
    level."""
    base = cv2.GaussianBlur(_texture(), (0, 0), 8.0)
    detail = grain.blend_keeps(_u8(base + _grain(base.shape, 0.7, 1)), _u8(base + _grain(base.shape, 0.7, 2)))
    assert detail.kept < grain.THIN_KEPT and detail.lost < grain.THIN_LOST_LEVELS and not detail.thins, detail


def test_frames_that_differ_everywhere_are_not_measured():
    """A picture moved far is the ghost measure's business: its mix is not called thinned grain."""
    base = _texture()
    assert grain.blend_keeps(_u8(base), _u8(np.roll(base, 40, axis=1))) is None


def test_probe_frames_are_a_loop_apart_past_the_first_frame():
    assert grain.probe_frames(30.0, 216, 4.0) == (15, 135)
    assert grain.probe_frames(25.0, 80, 4.0) == (0, 79)  # shorter than a loop: as far apart as it allows
    assert grain.probe_frames(25.0, 1, 4.0) is None


def _fine_detail_dip(path, frames: int) -> float:
    """The lowest fine detail of a loop's last `frames` frames (its transition) over the file's median."""
    decoded = media.read_frames(path, None, gray=True)
    fine = np.array([grain.fine_detail(f).mean() for f in decoded])
    return float(fine[-frames:].min() / np.median(fine))


@pytest.fixture(scope="module")
def grainy_face(face_video_factory, tmp_path_factory):
    """The demo's animated face (no grain of its own) with temporal grain added, as a real still avatar has."""
    plain, _ = face_video_factory(fps=25, duration=6.0, blink_times=(1.6, 4.2))
    grainy = tmp_path_factory.mktemp("grain") / "grainy_face.mp4"
    ffmpeg.run(["-y", "-i", str(plain), "-vf", "noise=alls=12:allf=t", "-an", "-c:v", "libx264", "-crf", "16",
                "-pix_fmt", "yuv420p", str(grainy)])
    return plain, grainy


def test_auto_takes_the_morph_where_a_crossfade_would_thin_the_grain(grainy_face, tmp_path):
    plain, grainy = grainy_face
    analysis = analyze_video(grainy)
    assert analysis.track.blend_detail.thins, analysis.track.blend_detail
    assert analyze_video(grainy).track.blend_detail == analysis.track.blend_detail  # kept in the cache
    choice = plan_loop(analysis, grainy)
    plan = choice.plan
    assert plan.strategy == "morph", choice.explanation
    assert "thins the grain" in choice.explanation
    context = SeamContext.from_analysis(analysis)
    result = export_loop(grainy, plan, tmp_path / "loop.mp4", info=analysis.info, context=context,
                         predicted=choice.prediction)
    assert not result.report.warnings and result.report.seam_step_ratio <= 1.5, result.report.summary()
    assert media.probe(result.path).frame_count == plan.output_frames
    # the case is real: the crossfade of the same window softens the face for its transition
    crossfade = dataclasses.replace(plan, strategy="crossfade")
    faded = export_loop(grainy, crossfade, tmp_path / "crossfade.mp4", info=analysis.info, context=context)
    k = plan.crossfade_frames
    assert _fine_detail_dip(faded.path, k) < 0.85
    assert _fine_detail_dip(result.path, k) > 0.88


def test_a_face_without_grain_keeps_the_plain_crossfade(grainy_face):
    plain, _ = grainy_face
    analysis = analyze_video(plain)
    assert not analysis.track.blend_detail.thins, analysis.track.blend_detail
    assert plan_loop(analysis, plain).plan.strategy == "crossfade"
