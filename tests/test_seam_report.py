"""The seam report on loops with a known answer: a jump, a ghost, a reversal, a pulse, a repeated frame.

Synthetic loops of a smooth texture moving in a circle (every step alike, the wrap included) are broken in
one known way each; the report must name that problem, at the right frames, and no other. One pulse and one
export go through real encoded files. docs/seam-report.md says what each measure is.
"""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from navtalk_desktop.core import ffmpeg, media, strict_json
from navtalk_desktop.core.blinks import Thresholds, detect_blinks
from navtalk_desktop.core.export import export_loop
from navtalk_desktop.core.loop_plan import LoopPlan
from test_cli import run_cli

from navtalk_desktop.core.seam import (GHOST_VISIBLE, JUMP_RATIO, SeamContext, assemble, finish, ghost_box,
                                       ghost_profile, inspect_loop, measure_frames, predict_plan_metrics,
                                       source_frames_small)

FPS = 25


def _texture(h: int = 96, w: int = 128, seed: int = 1, blur: float = 3.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = cv2.GaussianBlur(rng.uniform(0, 255, (h, w)).astype(np.float32), (0, 0), blur)
    return (img - img.min()) / (img.max() - img.min()) * 200 + 25


def _moved(img: np.ndarray, dx: float, dy: float = 0.0) -> np.ndarray:
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    out = cv2.warpAffine(img, m, (img.shape[1], img.shape[0]), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REFLECT)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _circle(n: int, radius: float = 3.0, period: int | None = None, base: np.ndarray | None = None) -> np.ndarray:
    """n frames of a texture moving at constant speed around a circle that closes after `period` frames."""
    base = _texture() if base is None else base
    period = period or n
    return np.stack([_moved(base, radius * np.cos(2 * np.pi * t / period), radius * np.sin(2 * np.pi * t / period))
                     for t in range(n)])


def _kinds(report) -> list[str]:
    return [w.kind for w in report.warnings]


def _write_lossless(path, frames: np.ndarray) -> None:
    n, h, w = frames.shape
    ffmpeg.run(["-y", "-f", "rawvideo", "-pix_fmt", "gray", "-s", f"{w}x{h}", "-framerate", str(FPS), "-i", "pipe:0",
                "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv444p", str(path)], stdin_frames=list(frames))


def test_a_smooth_loop_is_seamless_and_its_steps_are_the_pixels():
    loop = _circle(100)
    report = measure_frames(loop, FPS)
    f = loop.astype(np.float32)
    wrap = float(np.abs(f[0] - f[-1]).mean())
    median = float(np.median([np.abs(f[t + 1] - f[t]).mean() for t in range(99)]))
    assert report.seam_step == pytest.approx(wrap, abs=1e-3)  # the step from the LAST frame to the first
    assert report.median_step == pytest.approx(median, abs=1e-3)
    assert 0.85 < report.seam_step_ratio < 1.15
    assert report.warnings == [] and report.verdict() == "seamless"


def test_a_known_jump_is_named_at_the_wrap():
    loop = _circle(100)[:80]  # the circle is cut: the wrap jumps a fifth of the way round
    report = measure_frames(loop, FPS)
    assert report.seam_step_ratio > 5
    assert _kinds(report) == ["jump"]
    assert report.warnings[0].frames == [79, 0]
    assert report.verdict().startswith("visible jump at the seam")


def test_a_two_times_step_shows_however_still_the_face_is():
    """Every step is well under one luma level; the wrap skips a frame, so it steps twice as far.

    The old verdict ignored seam steps less than 1 luma level above the median (issue 9): it called this seamless.
    """
    faint = _texture() * 0.2 + 100  # a low-contrast face: a frame step is ~0.2 luma levels
    loop = np.delete(_circle(101, base=faint), 50, axis=0)[list(range(50, 100)) + list(range(50))]
    report = measure_frames(loop, FPS)
    assert report.seam_step - report.median_step < 1.0  # what the old floor hid
    assert 1.7 < report.seam_step_ratio < 2.3
    assert _kinds(report) == ["jump"]
    # and just under the threshold there is no warning: the comparison goes the right way
    fine = measure_frames(_circle(100, base=faint), FPS)
    assert fine.seam_step_ratio < JUMP_RATIO and fine.warnings == []


def test_a_repeated_frame_at_the_wrap_is_named():
    circle = _circle(100)
    loop = np.concatenate([circle, circle[:1]])  # the first frame played twice, across the wrap
    report = measure_frames(loop, FPS)
    assert report.seam_duplicates == 1 and report.repeated_frames == [100]
    assert _kinds(report) == ["repeated_frame"]
    assert "repeated frame" in report.verdict()


def test_a_pingpong_turn_is_a_known_reversal():
    circle = _circle(100)
    loop = np.concatenate([circle[:51], circle[49:0:-1]])  # forward 0..50, back 49..1: turns at 0 and 50
    report = measure_frames(loop, FPS, turns=[0, 50])
    assert _kinds(report) == ["reversal"]
    assert report.warnings[0].frames == [0, 50]
    assert all(c < -0.3 for c in report.turn_cosines)
    assert measure_frames(circle, FPS).reversal_frames == []


def test_a_swing_inside_the_loop_is_the_sources_motion_not_a_seam_reversal():
    """Back and forth with sharp turns at frames 25 and 75, continuous across the wrap: listed, not warned."""
    base = _texture(seed=4)
    u = [((t - 25) % 100) / 100 for t in range(100)]
    x = [6 * (1 - 4 * min(v, 1 - v)) for v in u]  # a triangle wave: +6 px at frame 25, -6 px at frame 75
    report = measure_frames(np.stack([_moved(base, v) for v in x]), FPS)
    assert report.reversal_frames == [25, 75]
    assert report.warnings == [] and report.verdict() == "seamless"


def test_a_morph_that_reverses_a_steady_motion_is_warned():
    """The texture drifts right 0.3 px a frame; a 40-frame loop's head sits 12 px left of its tail, so the morph
    slides it back ~1.2 px a frame against the motion: the loop reverses where the source never does."""
    base = _texture(seed=5)
    frames = np.stack([_moved(base, 0.3 * i) for i in range(60)])
    plan = LoopPlan("morph", FPS, 1, len(frames), 10, 49, 25, 8)
    report = predict_plan_metrics(None, plan, frames=frames)
    n, k = plan.span, plan.crossfade_frames
    assert n - k - 1 in report.reversal_frames  # stepping into the transition: +0.3 px, then the slide back
    assert report.source_reversals == []  # the source frames it draws from move steadily
    reversal = [w for w in report.warnings if w.kind == "reversal"]
    assert len(reversal) == 1 and n - k - 1 in reversal[0].frames, report.warnings
    assert all(t == 0 or n - k - 1 <= t < n for t in reversal[0].frames)


def test_a_source_that_jitters_is_not_blamed_on_the_loop():
    """A texture that jumps 2 px left and right every frame (period 2, so the ends match and the morph changes
    nothing): the transition reverses at every frame, and so do the source frames it draws from."""
    base = _texture(seed=6)
    frames = np.stack([_moved(base, 2.0 * (-1) ** i) for i in range(60)])
    plan = LoopPlan("morph", FPS, 1, len(frames), 10, 49, 25, 8)
    report = predict_plan_metrics(None, plan, frames=frames)
    n, k = plan.span, plan.crossfade_frames
    inside = [t for t in report.reversal_frames if t == 0 or t >= n - k - 1]
    assert len(inside) >= k  # the pixels reverse at the wrap and all through the transition...
    assert sorted(report.source_reversals) == sorted(inside)  # ...exactly as the source frames do
    assert [w for w in report.warnings if w.kind == "reversal"] == [], report.warnings
    # The same jitter, a crossfade: the blend of two identical frames is the frame; not the loop's either.
    fade = LoopPlan("crossfade", FPS, 1, len(frames), 10, 49, 25, 8)
    assert [w for w in predict_plan_metrics(None, fade, frames=frames).warnings if w.kind == "reversal"] == []


def test_ghost_of_two_unrelated_pictures_follows_the_blend_weights():
    """Tail and head have no edge in common: fade frame j at head weight w keeps (1-w)^2 + w^2 of the energy."""
    t = _texture(96, 56, seed=11)
    flat = np.full((96, 72), float(t.mean()))
    a = np.concatenate([t, flat], axis=1)  # the picture on the left...
    b = np.concatenate([flat, t], axis=1)  # ...or on the right, 16 px apart: no gradient overlaps
    frames = np.stack([np.clip(a + 0.5, 0, 255).astype(np.uint8)] * 60)
    frames[:20] = np.clip(b + 0.5, 0, 255).astype(np.uint8)  # the head frames (before `first`) are the other picture
    plan = LoopPlan("crossfade", FPS, 1, 60, 20, 59, 30, 10)  # heads: source 10-19 (b), tails: 50-59 (a)
    profile = ghost_profile(assemble(plan, frames), plan, frames, (0, 0, 128, 96))
    k = plan.crossfade_frames
    expected = [1 - ((1 - w) ** 2 + w ** 2) for w in ((j + 1) / k for j in range(k - 1))]
    assert len(profile) == k - 1
    assert np.abs(np.array(profile) - expected).max() < 0.02, (profile, expected)
    assert max(profile) > 0.4  # the middle of the fade: half the energy gone


def _moving_source(n: int = 150) -> np.ndarray:
    """A texture swinging sideways (period 37 frames): a 100-frame loop's ends sit at different places."""
    base = _texture(seed=3)
    return np.stack([_moved(base, 6 * np.sin(2 * np.pi * i / 37)) for i in range(n)])


def test_a_known_ghost_in_a_crossfade_and_none_in_the_morph_over_the_same_frames():
    frames = _moving_source()
    crossfade = LoopPlan("crossfade", FPS, 1, len(frames), 20, 119, 60, 10)
    report = predict_plan_metrics(None, crossfade, frames=frames)
    assert report.ghost > GHOST_VISIBLE
    ghost = [w for w in report.warnings if w.kind == "ghost"]
    assert len(ghost) == 1 and ghost[0].frames == report.ghost_frames
    assert all(90 <= t < 99 for t in ghost[0].frames)  # output frames of the fade (n-K .. n-2)
    lo, hi = ghost[0].source_span
    assert crossfade.faded_range[0] <= lo <= hi <= crossfade.faded_range[1]
    assert "double image" in report.verdict()
    morph = LoopPlan("morph", FPS, 1, len(frames), 20, 119, 60, 10)
    report = predict_plan_metrics(None, morph, frames=frames)
    assert report.ghost < GHOST_VISIBLE and report.warnings == [], report.warnings
    assert report.seam_duplicates == 0  # the last frame is the pure head frame just before the first
    # Ends that match (the motion's period is the loop's length): no ghost at all, even in a crossfade.
    matched = _circle(150, period=100)
    report = predict_plan_metrics(None, crossfade, frames=matched)
    assert report.ghost < 0.05 and report.warnings == [], report.warnings
    assert 0.8 < report.seam_step_ratio < 1.2


def test_ghost_box_follows_the_face_region_or_the_difference():
    frames = _moving_source()
    plan = LoopPlan("crossfade", FPS, 1, len(frames), 20, 119, 60, 10)
    assert ghost_box(plan, frames, region=(0.25, 0.5, 0.75, 1.0)) == (32, 48, 96, 96)
    still = frames.copy()
    still[:, :, :64] = 120  # the left half never changes: the box covers only the right half
    x0, _y0, x1, _y1 = ghost_box(plan, still)
    assert x0 >= 64 - 8 - 2 and x1 == 128


def test_a_blink_in_the_fade_is_named_with_its_frames():
    frames = _circle(150, period=100)
    plan = LoopPlan("crossfade", FPS, 1, 150, 20, 119, 60, 10)  # faded tail 110-119, head 10-19
    context = SeamContext(blinks=((112, 113, 115), (55, 58, 61), (12, 14, 16)))
    report = predict_plan_metrics(None, plan, frames=frames, context=context)
    blinks = [w for w in report.warnings if w.kind == "blink_in_fade"]
    assert [w.source_frame for w in blinks] == [113, 14]  # the blink at 58 plays whole, unfaded
    assert blinks[0].frames == [92, 93, 94, 95]  # tail frame 20 + t is output frame t
    assert blinks[1].frames == [92, 93, 94, 95, 96]  # head frame 10 + j shows at output 90 + j
    assert blinks[0].source_span == plan.faded_range and blinks[1].source_span == plan.head_range
    assert "blink at frame 113 is inside the crossfade" in report.verdict()


def test_a_ping_pong_names_the_blink_it_plays_backwards():
    """A ping-pong over source frames 20-80 plays them forward (outputs 0-60), then 79 back to 21 (61-119):
    a blink inside the window closes slowly and opens fast once a cycle; one outside it plays no part."""
    frames = _circle(150, period=100)
    plan = LoopPlan("pingpong", FPS, 1, 150, 20, 80, 50, 0)
    context = SeamContext(blinks=((48, 50, 52), (100, 102, 104)))
    report = predict_plan_metrics(None, plan, frames=frames, context=context)
    backwards = [w for w in report.warnings if w.kind == "backwards_blink"]
    assert len(backwards) == 1 and backwards[0].source_frame == 50
    assert backwards[0].frames == [88, 89, 90, 91, 92]  # output 61 + (79 - s) plays source frame s
    assert "blink at frame 50 plays backwards once a cycle" in report.verdict()
    outside = predict_plan_metrics(None, plan, frames=frames, context=SeamContext(blinks=((100, 102, 104),)))
    assert not [w for w in outside.warnings if w.kind == "backwards_blink"]
    # auto's explanation says it once, in words, and still counts it
    from navtalk_desktop.core.auto_loop import BLINK_REVERSED_COST, score

    cost, why = score(plan, report, blink=(48, 52))
    assert why.count("backwards") == 1 and "blink plays backwards once a cycle" in why, why
    assert cost >= BLINK_REVERSED_COST


def _pulsed(loop: np.ndarray, sigma: float = 4.0) -> np.ndarray:
    """Frame 0 with fresh grain, as an I-frame coded afresh looks beside the P-frame before the wrap."""
    out = loop.copy()
    noise = np.random.default_rng(9).normal(0, sigma, loop.shape[1:])
    out[0] = np.clip(out[0] + noise + 0.5, 0, 255).astype(np.uint8)
    return out


def test_a_known_pulse_is_told_from_a_jump_by_the_prediction():
    frames = _circle(150, period=100)
    plan = LoopPlan("crossfade", FPS, 1, 150, 20, 119, 60, 10)
    predicted = predict_plan_metrics(None, plan, frames=frames)
    assert predicted.warnings == []
    file_frames = _pulsed(assemble(plan, frames))
    measured = measure_frames(file_frames, FPS, [0], plan.output_frames)
    assert _kinds(measured) == ["jump"]  # alone, the pixels cannot tell a jump from a pulse
    finish(measured, plan, file_frames, frames, predicted=predicted)
    assert _kinds(measured) == ["pulse"]
    assert measured.seam_step_ratio > predicted.seam_step_ratio + 0.5
    assert any("keyframe pulse" in d for d in measured.differences)
    text = measured.summary()
    assert "predicted from the source frames" in text and "why they differ: the encode adds a keyframe pulse" in text
    # the same frames measured against a prediction that has the step too: a jump in the frames, not the encode
    finish(measured, plan, file_frames, frames, predicted=measured)
    assert _kinds(measured) == ["jump"]


def test_a_pulse_in_a_real_file_is_measured_on_the_file(tmp_path):
    """A lossless file whose frame 0 pops: inspect_loop measures the file and compares it with the source."""
    frames = _circle(150, period=100)
    plan = LoopPlan("crossfade", FPS, 1, 150, 20, 119, 60, 10)
    path = tmp_path / "pulsed.mp4"
    _write_lossless(path, _pulsed(assemble(plan, frames)))
    report = inspect_loop(path, plan, source_frames=frames)
    decoded = source_frames_small(path, media.probe(path)).astype(np.float32)
    steps = [np.abs(decoded[(t + 1) % 100] - decoded[t]).mean() for t in range(100)]
    assert report.seam_step_ratio == pytest.approx(steps[-1] / np.median(steps[:-1]), rel=1e-3)
    assert report.source == "file" and report.predicted.source == "prediction"
    assert report.predicted.seam_step_ratio < 1.2 < 1.6 < report.seam_step_ratio
    assert _kinds(report) == ["pulse"] and report.warnings[0].source_frame == plan.first
    data = json.loads(strict_json.dumps(report.to_dict()))
    assert data["warnings"][0]["kind"] == "pulse" and data["predicted"]["seam_step_ratio"] < 1.2
    assert data["differences"] and data["verdict"].startswith("keyframe pulse")


def test_an_export_reports_the_file_the_prediction_and_a_ghost(tmp_path):
    """A real export of a swinging texture as a crossfade: the sidecar carries the file's numbers, the
    prediction, the ghost warning; `inspect` finds the same from the sidecar."""
    source = tmp_path / "swing.mp4"
    frames = _moving_source()
    _write_lossless(source, frames)
    info = media.probe(source)
    assert info.frame_count == len(frames)
    plan = LoopPlan("crossfade", FPS, 1, info.frame_count, 20, 119, 60, 10)
    result = export_loop(source, plan, tmp_path / "loop.mp4")
    report = result.report
    decoded = source_frames_small(result.path, media.probe(result.path)).astype(np.float32)
    wrap = float(np.abs(decoded[0] - decoded[-1]).mean())
    assert report.seam_step == pytest.approx(wrap, abs=1e-3)  # measured on the encoded file
    assert report.predicted is not None and report.predicted.ghost > GHOST_VISIBLE
    assert report.ghost > GHOST_VISIBLE and "ghost" in _kinds(report)
    sidecar = json.loads(result.sidecar_path.read_text())
    seam = sidecar["seam"]
    assert "ghost" in [w["kind"] for w in seam["warnings"]] and seam["predicted"]["ghost"] > GHOST_VISIBLE
    proc = run_cli("inspect", result.path)
    assert proc.returncode == 0, proc.stderr
    assert "warning [ghost]: double image in the crossfade" in proc.stdout
    assert "predicted from the source frames" in proc.stdout


def test_a_long_closure_is_not_a_blink():
    """Eyes shut for 0.72 s: a long closure (MAX_BLINK_S = 0.5 s), never a loop point; 0.2 s is a blink."""
    fps = 25.0
    ear = np.full(250, 0.3)
    ear[50:55] = 0.08  # 0.2 s
    ear[150:168] = 0.08  # 0.72 s
    events, _ = detect_blinks(ear, ear.copy(), fps, Thresholds())
    kinds = {e.apex // 50 * 50: e.kind for e in events}
    assert kinds == {50: "blink", 150: "long_closure"}, events
    assert [e.is_clean(250, fps) for e in sorted(events, key=lambda e: e.apex)] == [True, False]


def test_the_file_and_its_prediction_blame_the_same_reversals_on_a_jittery_source(tmp_path):
    """d12's head shakes (it repeats every fifth frame): its default morph's transition turns where the
    source frames it draws from turn too, weakly (cosine -0.2). Those turns are the source's, in the
    prediction and on the file alike, although the file's flow floor comes from a whole loop of motion."""
    from pathlib import Path

    source = Path(__file__).parent / "fixtures" / "liveportrait_d12.mp4"
    info = media.probe(source)
    plan = LoopPlan("morph", 25, 1, info.frame_count, 21, 120, 50, 10)
    report = export_loop(source, plan, tmp_path / "d12.mp4", info=info).report
    assert report.source == "file" and report.predicted is not None
    inside = [t for t in report.reversal_frames if t >= plan.span - plan.crossfade_frames - 1]
    assert inside, "the transition's pixels do turn"
    assert set(inside) <= set(report.source_reversals)
    assert "reversal" not in _kinds(report) and "reversal" not in _kinds(report.predicted), report.warnings


def test_a_planned_file_is_measured_for_flow_where_the_loop_can_reverse():
    """With its plan, the file's flow is measured around the wrap, the turns and the transition (where the
    prediction measures it), and a stream of its frames computes those flows alone; the body's flow is the
    source's own motion."""
    from navtalk_desktop.core.seam import StreamedFrames, plan_flow_steps

    fade = LoopPlan("crossfade", FPS, 1, 200, 20, 119, 60, 10)
    n, k = fade.output_frames, fade.crossfade_frames
    steps = plan_flow_steps(fade)
    assert {n - 1, 0} | set(range(n - k - 2, n)) <= steps  # the wrap, the first step, the transition
    assert n // 2 not in steps
    pingpong = LoopPlan("pingpong", FPS, 1, 200, 20, 69, 40, 0)
    assert {pingpong.span - 2, pingpong.span - 1, 0, pingpong.output_frames - 1} <= plan_flow_steps(pingpong)
    stream = StreamedFrames(steps=steps)
    base = _texture(seed=9)
    for i in range(n):
        stream.append(_moved(base, 0.3 * i))
    assert set(stream.flows) == steps - {n - 1}  # the wrap's flow needs frame 0 after the last: measured later
    report = measure_frames(np.stack(stream.frames), FPS, [0], full_flow=False, flow_frames=range(n - k - 1, n),
                            known_flows=stream.flows)
    assert report.seam_flow_cosine is not None


@pytest.mark.parametrize("strategy", ["crossfade", "morph"])
def test_a_transition_made_darker_than_its_frames_is_a_level_shift_not_a_pulse(strategy):
    """The known answer: a loop whose transition frames alone are 2 levels darker (a colour conversion of the
    transition, as raw BT.601-read frames beside a BT.709 body were) is named a level shift of -2, and the same
    loop darkened throughout (an encode's level change) or untouched is not."""
    frames = _circle(150, period=100)
    plan = LoopPlan(strategy, FPS, 1, 150, 20, 119, 60, 10)
    predicted = predict_plan_metrics(None, plan, frames=frames)
    clean = assemble(plan, frames)
    body = plan.span - plan.crossfade_frames
    darker = clean.astype(np.int16)
    darker[body:] -= 2
    darker = np.clip(darker, 0, 255).astype(np.uint8)
    measured = finish(measure_frames(darker, FPS, [0], plan.output_frames), plan, darker, frames,
                      predicted=predicted)
    assert measured.level_shift == pytest.approx(-2.0, abs=0.2)
    assert "level_shift" in _kinds(measured) and "pulse" not in _kinds(measured)
    assert any("colour conversion" in d for d in measured.differences)
    assert not any("keyframe pulse" in d for d in measured.differences)
    for same in (clean, np.clip(clean.astype(np.int16) - 2, 0, 255).astype(np.uint8)):
        report = finish(measure_frames(same, FPS, [0], plan.output_frames), plan, same, frames, predicted=predicted)
        assert abs(report.level_shift) < 0.2 and "level_shift" not in _kinds(report)
