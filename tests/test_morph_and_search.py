"""The morph seam and the every-window search: motion-compensated transitions, blink rules, real fixtures."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from navtalk_desktop.core import ffmpeg, media
from navtalk_desktop.core.analysis import AnalysisResult, analyze_video
from navtalk_desktop.core.auto_loop import choose_plan, plan_loop
from navtalk_desktop.core.blinks import BlinkEvent
from navtalk_desktop.core.cancel import CancelToken
from navtalk_desktop.core.errors import CancelledError
from navtalk_desktop.core.export import export_loop
from navtalk_desktop.core.loop_plan import BLENDED, make_plan
from navtalk_desktop.core.morph import morph_frame
from navtalk_desktop.core.seam import (GHOST_VISIBLE, SeamContext, assemble, predict_plan_metrics, source_frames_small,
                                       transition_ghost)
from navtalk_desktop.core.window_search import BLINK_MARGIN, diagonal_filter, face_box, pair_distances, score_windows


def _texture(h: int, w: int, seed: int = 0, blur: float = 2.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = cv2.GaussianBlur(rng.uniform(0, 255, (h, w)).astype(np.float32), (0, 0), blur)
    img = (img - img.min()) / (img.max() - img.min()) * 220 + 15
    return img.astype(np.uint8)


def _shifted(img: np.ndarray, dx: float) -> np.ndarray:
    m = np.float32([[1, 0, dx], [0, 1, 0]])
    return cv2.warpAffine(img, m, (img.shape[1], img.shape[0]), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)


def _event(start: int, apex: int, end: int) -> BlinkEvent:
    return BlinkEvent(start, apex, end, depth=0.8, confidence=0.9, kind="blink", touches_edge=False,
                      touches_gap=False, both_eyes=True)


def _synthetic_analysis(path, events: list[BlinkEvent]) -> AnalysisResult:
    """Blink events placed by hand on a synthetic (face-less) clip: the rules under test, not the detector."""
    info = media.probe(path)
    ones = np.ones(info.frame_count)
    return AnalysisResult(info=info, ear_right=ones * 0.3, ear_left=ones * 0.3, ear_mean=ones * 0.3,
                          openness=ones.copy(), events=events, face_fraction=1.0)


def _write_gray_video(path, frames: np.ndarray, fps: int = 25) -> None:
    n, h, w = frames.shape
    ffmpeg.run(["-y", "-f", "rawvideo", "-pix_fmt", "gray", "-s", f"{w}x{h}", "-framerate", str(fps), "-i", "pipe:0",
                "-c:v", "libx264", "-preset", "veryfast", "-crf", "10", "-pix_fmt", "yuv420p", str(path)],
               stdin_frames=list(frames))


def test_morph_slides_a_moved_texture_into_place_where_a_blend_doubles_it():
    base = _texture(128, 160, seed=1)
    a, b = base, _shifted(base, 12.0)
    truth = _shifted(base, 6.0)  # halfway: the content has moved half the way
    inner = (slice(16, -16), slice(24, -24))
    morphed = morph_frame(a, b, 0.5).astype(float)
    blended = (a.astype(float) + b) / 2
    err_morph = np.abs(morphed - truth)[inner].mean()
    err_blend = np.abs(blended - truth)[inner].mean()
    assert err_morph < 0.35 * err_blend, (err_morph, err_blend)
    assert err_morph < 4.0
    # The ends are the ends: t=0 is a, t=1 is b.
    assert np.array_equal(morph_frame(a, b, 0.0), a) and np.array_equal(morph_frame(a, b, 1.0), b)
    # Appearance follows the weights: two unrelated pictures at the same place blend (1 - t) : t, the flow
    # between them (which matches nothing) left out (morph.TRUST_HI): 6.1 levels off, 7.9 with it.
    other = _texture(128, 160, seed=9)
    expected = 0.75 * a.astype(float) + 0.25 * other
    assert np.abs(morph_frame(a, other, 0.25).astype(float) - expected)[inner].mean() < 0.4 * np.abs(
        0.25 * a.astype(float) + 0.75 * other - expected)[inner].mean()
    # A quarter of the way: 3 px moved, not 9 (a flow applied the wrong way round lands on the far side).
    quarter = morph_frame(a, b, 0.25).astype(float)
    assert np.abs(quarter - _shifted(base, 3.0))[inner].mean() < np.abs(quarter - _shifted(base, 9.0))[inner].mean()


def _layered_scene(bg_dx: float, fg_dx: float, h: int = 144, w: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """A textured head (an ellipse) moved fg_dx over a background moved bg_dx: a camera that travels while
    the head holds nearly still (LivePortrait's s18)."""
    background = _shifted(_texture(h, w + 64, seed=3, blur=4.0), bg_dx)[:, 32:32 + w].astype(np.float32)
    head = _shifted(_texture(h, w, seed=5, blur=1.5), fg_dx).astype(np.float32)
    yy, xx = np.mgrid[:h, :w]
    mask = cv2.GaussianBlur((((xx - (w / 2 + fg_dx)) / 46.0) ** 2 + ((yy - h / 2) / 60.0) ** 2 <= 1).astype(np.float32),
                            (0, 0), 0.8)
    return np.clip(background * (1 - mask) + head * mask + 0.5, 0, 255).astype(np.uint8), mask


def test_a_head_over_a_travelling_background_slides_without_smearing_its_edge():
    """The known answer: halfway, the background has moved 8 px and the head 1.5. Warping each end by its own
    flow taken at the in-between pixel smeared the head's edge across the background (band error 6.6, on
    s18 swirls of hair over the wall); the flow splatted to the in-between time keeps it (3.8)."""
    a, _ = _layered_scene(0, 0)
    b, _ = _layered_scene(16, 3)
    truth, mask = _layered_scene(8, 1.5)
    inside = (mask > 0.5).astype(np.uint8)
    band = (cv2.dilate(inside, np.ones((25, 25))) - cv2.erode(inside, np.ones((9, 9)))).astype(bool)
    band[:, :40] = band[:, -40:] = False  # the frame's edges, where one end has no picture
    morphed = morph_frame(a, b, 0.5).astype(np.float32)
    blended = (a.astype(np.float32) + b) / 2
    err = np.abs(morphed - truth)
    assert err[band].mean() < 4.5, err[band].mean()
    assert err[16:-16, 40:-40].mean() < 2.2
    assert err[band].mean() < 0.3 * np.abs(blended - truth)[band].mean()


def _panel_scene(cx: int):
    """A plain panel wall with straight dark seams, and a textured disc (a head) centred at x = cx."""
    h, w = 140, 160
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    wall = 150 + 30 * (x / w)
    wall[:, 8::24] = 60
    texture = np.roll(_texture(h, w, seed=5).astype(np.float32), cx, axis=1)
    disc = (x - cx) ** 2 + (y - 70) ** 2 < 30 ** 2
    return np.clip(np.where(disc, texture, wall), 0, 255).astype(np.uint8), disc


def test_a_still_wall_stays_still_while_the_head_in_front_of_it_slides():
    """The flow of a moving head spills over a plain wall; warped, the wall's straight seams bend (d12's
    default loop did). Where the two ends already agree, the morph moves nothing; the head still slides."""
    import cv2

    from navtalk_desktop.core import morph

    a, disc_a = _panel_scene(60)
    b, disc_b = _panel_scene(72)
    halfway, disc_half = _panel_scene(66)
    morph._flow_cache._flows.clear()
    frame = morph_frame(a, b, 0.5).astype(float)
    wall = ~cv2.dilate((disc_a | disc_b).astype(np.uint8), np.ones((21, 21), np.uint8)).astype(bool)
    assert np.abs(frame - a)[wall].max() <= 1.0  # every seam where it was, to the level
    head = cv2.erode(disc_half.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool)
    slid = np.abs(frame - halfway)[head].mean()
    blend = np.abs((a.astype(float) + b) / 2 - halfway)[head].mean()
    assert slid < 0.5 * blend, (slid, blend)  # the head moved to the middle, not doubled


def test_a_still_grainy_face_keeps_its_grain_through_the_morph():
    """Two frames of one still face with independent grain (sigma 4): a blend at t = 0.5 halves the grain's
    variance (sigma 2.8), a softening once a cycle; the morph hands the grain over and keeps sigma ~4."""
    base = _texture(120, 160, seed=5, blur=4.0).astype(np.float32)
    rng = np.random.default_rng(9)
    a, b = (np.clip(base + rng.normal(0, 4.0, base.shape), 0, 255).astype(np.uint8) for _ in range(2))
    inner = (slice(8, -8), slice(8, -8))
    plain = (a.astype(np.float32) + b) / 2
    assert (plain - base)[inner].std() < 3.1  # what the blend leaves
    for t in (0.3, 0.5, 0.7):
        grain = (morph_frame(a, b, t).astype(np.float32) - base)[inner].std()
        assert grain > 3.6, (t, grain)
    # the studio's preview morphs RGB frames, 3 channels, and 640 px wide (the mask blurred on a smaller copy)
    base = _texture(480, 640, seed=5, blur=12.0).astype(np.float32)
    a, b = (np.repeat(np.clip(base + rng.normal(0, 4.0, base.shape), 0, 255).astype(np.uint8)[..., None], 3, axis=2)
            for _ in range(2))
    rgb = morph_frame(a, b, 0.5)
    assert rgb.shape == (480, 640, 3) and (rgb[..., 0] == rgb[..., 2]).all()
    assert (rgb[..., 0].astype(np.float32) - base)[32:-32, 32:-32].std() > 3.6


def test_a_face_slid_into_place_keeps_its_fine_detail():
    """A fine texture 1.5 px apart at the two ends: the in-betweens keep >= 0.95 of its fine detail (the
    cubic warp); a bilinear warp resamples it soft (0.90-0.96)."""
    base = _texture(120, 160, seed=11, blur=1.2)
    a, b = base, _shifted(base, 1.5)

    def fine(f):
        f = f.astype(np.float32)
        return np.abs(f - cv2.GaussianBlur(f, (0, 0), 1.5))[10:-10, 10:-10].mean()

    for t in (0.3, 0.5, 0.7):
        assert fine(morph_frame(a, b, t)) > 0.95 * (fine(a) + fine(b)) / 2, t


def test_where_the_ends_differ_the_morph_blends_plainly_so_a_ghost_stays_visible():
    """keep_grain swaps fine detail only where the aligned ends agree: a disc here in a and there in b
    (what a flow that failed leaves) is blended plainly, and the still background keeps a's grain."""
    from navtalk_desktop.core.morph import keep_grain

    rng = np.random.default_rng(3)
    background = np.full((100, 160), 90.0, np.float32)
    yy, xx = np.mgrid[:100, :160]
    disc = lambda cx: np.where((xx - cx) ** 2 + (yy - 50) ** 2 < 15 ** 2, 200.0, 0.0)  # noqa: E731
    a = np.maximum(background, disc(50)) + rng.normal(0, 3.0, background.shape)
    b = np.maximum(background, disc(110)) + rng.normal(0, 3.0, background.shape)
    a, b = a.astype(np.float32), b.astype(np.float32)
    out = keep_grain(a, b, 0.4)
    plain = 0.6 * a + 0.4 * b
    for cx in (50, 110):  # both discs, as the plain blend shows them: the double image unhidden
        core = (slice(40, 61), slice(cx - 10, cx + 11))
        assert np.abs(out[core] - plain[core]).max() < 0.5
    corner = (slice(5, 25), slice(5, 30))  # still background: a's grain, not the thinned mix
    assert np.abs(out[corner] - a[corner]).mean() < 0.5 < np.abs(plain[corner] - a[corner]).mean()


def test_ghost_measure_sees_a_double_image_and_not_a_morph(tmp_path):
    """The ghost measure on a moving synthetic clip: the crossfade doubles, the morph does not."""
    base = _texture(120, 160, seed=2, blur=3.0)
    frames = np.stack([_shifted(base, 0.1 * i) for i in range(150)])  # a steady drift: 10 px over the loop
    for strategy, low in (("crossfade", False), ("morph", True)):
        plan = make_plan(strategy, 25, 150, 60, duration=4.0, before=1.0)
        loop = assemble(plan, frames)
        ghost = transition_ghost(loop, plan, frames, (20, 10, 140, 110))
        assert (ghost < GHOST_VISIBLE) == low, (strategy, ghost)


def test_pair_distances_follow_the_diagonal():
    base = _texture(90, 160, seed=3)
    frames = np.stack([_shifted(base, 3.0 * np.sin(2 * np.pi * i / 40)) for i in range(60)])
    analysis = AnalysisResult(info=None, ear_right=np.ones(60), ear_left=np.ones(60), ear_mean=np.ones(60),
                              openness=np.ones(60), events=[], face_fraction=0.0)
    d = pair_distances(frames, analysis)
    assert d.shape == (60, 60) and np.allclose(d, d.T, atol=1e-6)
    assert np.allclose(np.diag(d), 0.0, atol=1e-6)
    # Two frames at the same position but moving opposite ways are alike, their neighbours are not:
    # the diagonal filter tells them apart (the motion would reverse).
    i, j = 5, 15  # sin(pi/4) = sin(3pi/4): same position, velocity reversed
    df = diagonal_filter(d)
    assert d[i, j] < 0.5 * np.median(d)
    assert df[i, j] > 2.0 * d[i, j]


def test_search_keeps_blinks_out_of_the_transition_even_when_only_that_seam_is_cheap(tmp_path):
    """Every frame differs from every other except one pair run that would put a blink inside the fade."""
    n_out, k, f0 = 100, 10, 60
    frames = np.stack([_texture(72, 96, seed=100 + i, blur=3.0) for i in range(200)])
    frames[f0 - k + n_out:f0 + n_out] = frames[f0 - k:f0]  # the tail matches the head only for window f0
    path = tmp_path / "cheap_seam_over_blink.mp4"
    _write_gray_video(path, frames)
    avoided = _event(f0 - k + 3, f0 - k + 4, f0 - k + 5)  # inside window f0's head range
    kept = _event(100, 101, 103)
    analysis = _synthetic_analysis(path, [avoided, kept])
    small = source_frames_small(path, analysis.info)
    d = diagonal_filter(pair_distances(small, analysis))
    costs = {f: d[np.arange(f - k, f), np.arange(f - k, f) + n_out].mean() for f in range(k, 200 - n_out + 1)}
    cheapest = min(costs, key=costs.get)
    assert abs(cheapest - f0) <= 2 and cheapest - k <= avoided.end  # the only cheap seam crosses the blink
    scores = score_windows(analysis, small, n_out, k, ("crossfade", "morph"))
    assert scores
    for s in scores:
        for lo, hi in ((s.first - k, s.first - 1), (s.last - k + 1, s.last)):
            for e in analysis.events:
                assert hi < e.start - BLINK_MARGIN or lo > e.end + BLINK_MARGIN, (s, e)
        assert any(s.first <= e.start and e.end <= s.last - k for e in analysis.events)
    plan, _ = choose_plan(analysis, path, strategies=("crossfade", "morph"))
    for lo, hi in (plan.head_range, plan.faded_range):
        assert hi < avoided.start or lo > avoided.end, plan


def test_search_prefers_open_eyes_in_the_transition(tmp_path):
    """The cheapest pixel seam falls on half-closed eyes (a squint, not a blink): another window wins."""
    n_out, k, f0 = 100, 10, 60
    frames = np.stack([_texture(72, 96, seed=300 + i, blur=3.0) for i in range(200)])
    frames[f0 - k + n_out:f0 + n_out] = frames[f0 - k:f0]
    path = tmp_path / "squint_at_cheap_seam.mp4"
    _write_gray_video(path, frames)
    analysis = _synthetic_analysis(path, [_event(100, 101, 103)])
    small = source_frames_small(path, analysis.info)
    best_with_open_eyes = score_windows(analysis, small, n_out, k, ("crossfade",))[0]
    assert abs(best_with_open_eyes.first - f0) <= 2
    analysis.openness[f0 - k:f0] = 0.45
    best = score_windows(analysis, small, n_out, k, ("crossfade",))[0]
    assert not (best.first - k <= f0 - 1 and f0 - k <= best.first - 1), best


def test_no_backwards_blink_while_a_forward_loop_exists(tmp_path):
    """A slow dissolve: every forward seam blends two different pictures, ping-pong turns are nearly free.

    Ping-pong would still play the blink backwards, so auto must take a forward loop; only when asked for
    ping-pong alone does it build one.
    """
    a, b = _texture(72, 96, seed=7, blur=2.5).astype(float), _texture(72, 96, seed=8, blur=2.5).astype(float)
    w = (np.arange(200) / 199.0)[:, None, None]
    frames = np.clip(a * (1 - w) + b * w + 0.5, 0, 255).astype(np.uint8)
    path = tmp_path / "dissolve.mp4"
    _write_gray_video(path, frames)
    analysis = _synthetic_analysis(path, [_event(96, 98, 100)])
    _, candidates = choose_plan(analysis, path, strategies=("crossfade", "pingpong"))
    assert candidates[0].plan.strategy == "crossfade"
    assert all(c.plan.strategy != "pingpong" for c in candidates)
    # Ping-pong really is the cheaper seam here: that is what the rule overrides.
    only_pingpong = choose_plan(analysis, path, strategies=("pingpong",))[1][0]
    assert only_pingpong.cost < candidates[0].cost
    assert "blink plays backwards" in only_pingpong.why


@pytest.mark.parametrize("fixture", ["liveportrait_d12.mp4", "liveportrait_d18.mp4"])
def test_default_loop_meets_the_goal_figures(fixtures_dir, annotations, tmp_path, fixture):
    source = fixtures_dir / fixture
    analysis = analyze_video(source)
    choice = plan_loop(analysis, source)
    plan = choice.plan
    assert choice.explanation.startswith(f"auto: chose {plan.strategy}")
    assert plan.strategy in BLENDED  # forward: no blink plays backwards
    blinks = annotations[fixture]["blinks"]
    inside = [b for b in blinks if plan.first <= b["start"] and b["end"] <= plan.faded_range[0] - 1]
    assert inside, (plan, blinks)  # at least one whole blink, outside the transition
    for lo, hi in (plan.head_range, plan.faded_range):
        assert all(hi < b["start"] or lo > b["end"] for b in blinks), (plan, blinks)
    # The export reuses the planner's prediction: the very one the export would make from its own frames.
    context = SeamContext.from_analysis(analysis)
    afresh = predict_plan_metrics(source, plan, info=analysis.info, context=context)
    assert choice.prediction is not None and choice.prediction.to_dict() == afresh.to_dict()
    result = export_loop(source, plan, tmp_path / "loop.mp4", info=analysis.info, context=context,
                         predicted=choice.prediction)
    assert result.report.predicted is choice.prediction
    info = media.probe(result.path)
    assert info.frame_count == plan.output_frames and abs(info.frame_count / float(info.fps) - 4.0) < 1e-9
    assert result.report.seam_duplicates == 0
    # No double image: measured on the decoded file's transition frames against the source ends.
    decoded = source_frames_small(result.path, info)
    frames = source_frames_small(source, analysis.info)
    box = face_box(analysis, frames.shape[2], frames.shape[1])
    ghost = transition_ghost(decoded, plan, frames, box)
    assert ghost < GHOST_VISIBLE, ghost
    sidecar = json.loads(result.sidecar_path.read_text())
    assert sidecar["plan"]["strategy"] == plan.strategy


def test_a_fast_talker_gets_a_shorter_transition_not_a_double_image(fixtures_dir, tmp_path):
    """A talking head the fixtures do not hold: d12 mirrored and sped up 1.25x (25 fps). Its mouth changes
    shape within the default 0.4 s, and every default-length morph of it warns: it blends two mouths (ghost
    0.16-0.20) or, with the in-between flow, slides them with a lurch (1.8x). Left to itself the planner
    shortens the transition until the report shows nothing; a length the user gives is kept as given,
    warnings and all."""
    source = tmp_path / "fast_talker.mp4"
    ffmpeg.run(["-y", "-i", str(fixtures_dir / "liveportrait_d12.mp4"), "-vf", "hflip,setpts=PTS/1.25,fps=25",
                "-an", "-c:v", "libx264", "-crf", "18", "-pix_fmt", "yuv420p", str(source)])
    analysis = analyze_video(source)
    default_k = round(0.4 * float(analysis.info.fps))
    as_given = plan_loop(analysis, source, crossfade=0.4)
    assert as_given.plan.crossfade_frames == default_k
    # the case is real: every default-length loop warns (a doubled mouth; since the morph's in-between flow,
    # session 12, the best one slides it instead, with a lurch: ghost 0.11, a jump of 1.8x)
    assert {"ghost", "jump"} & {w.kind for w in as_given.prediction.warnings}
    choice = plan_loop(analysis, source)
    plan = choice.plan
    assert plan.strategy in BLENDED and plan.crossfade_frames < default_k, plan
    assert f"a {plan.crossfade_frames}-frame {plan.strategy}" in choice.explanation.splitlines()[0]
    result = export_loop(source, plan, tmp_path / "loop.mp4", info=analysis.info,
                         context=SeamContext.from_analysis(analysis), predicted=choice.prediction)
    info = media.probe(result.path)
    assert info.frame_count == plan.output_frames and abs(info.frame_count / float(info.fps) - 4.0) < 1e-9
    report = result.report
    assert report.seam_duplicates == 0 and report.seam_step_ratio <= 1.5, report.summary()
    assert not report.warnings, report.summary()
    # the double image, measured afresh on the decoded file's transition frames against the source ends
    decoded, frames = source_frames_small(result.path, info), source_frames_small(source, analysis.info)
    assert transition_ghost(decoded, plan, frames, face_box(analysis, frames.shape[2], frames.shape[1])) < GHOST_VISIBLE
    assert any(plan.first <= e.start and e.end < plan.faded_range[0] for e in analysis.clean_events())


def test_a_talker_whose_default_morph_jumps_gets_a_longer_one(fixtures_dir, tmp_path):
    """LivePortrait's d10, a talker whose gaze and head move on (an unseen clip when this was written): every
    0.4 s morph around its blinks lurches (1.9x a normal step at best), as the two ends differ more than 12
    frames can slide. The planner measures a 0.6 s morph, which spreads the slide, and the file shows it."""
    source = fixtures_dir / "liveportrait_d10.mp4"
    analysis = analyze_video(source)
    as_given = plan_loop(analysis, source, crossfade=0.4)
    assert "jump" in {w.kind for w in as_given.prediction.warnings}  # the case is real
    choice = plan_loop(analysis, source)
    plan = choice.plan
    assert plan.strategy in BLENDED and plan.crossfade_frames > as_given.plan.crossfade_frames, choice.explanation
    assert f"an {plan.crossfade_frames}-frame" in choice.explanation.splitlines()[0]
    result = export_loop(source, plan, tmp_path / "loop.mp4", info=analysis.info,
                         context=SeamContext.from_analysis(analysis), predicted=choice.prediction)
    report = result.report
    assert report.frame_count == 120 and report.seam_duplicates == 0
    assert report.seam_step_ratio <= 1.5 and not report.warnings, report.summary()
    # measured afresh on the decoded file: the steps inside the transition stay near the body's own
    decoded = source_frames_small(result.path, media.probe(result.path)).astype(np.float32)
    steps = np.abs(np.diff(np.concatenate([decoded, decoded[:1]]), axis=0)).mean(axis=(1, 2))
    start = plan.span - plan.crossfade_frames
    assert steps[start:].max() < 2.0 * np.median(steps[:start]), np.round(steps[start:], 2)


def test_d12_default_loop_is_a_morph_and_its_crossfade_would_ghost(fixtures_dir, tmp_path):
    source = fixtures_dir / "liveportrait_d12.mp4"
    analysis = analyze_video(source)
    plan = plan_loop(analysis, source).plan
    assert plan.strategy == "morph"
    frames = source_frames_small(source, analysis.info)
    box = face_box(analysis, frames.shape[2], frames.shape[1])
    crossfade = make_plan("crossfade", plan.fps, plan.source_frames, plan.loop_point).with_window(plan.first, plan.last)
    assert transition_ghost(assemble(crossfade, frames), crossfade, frames, box) > GHOST_VISIBLE
    assert transition_ghost(assemble(plan, frames), plan, frames, box) < GHOST_VISIBLE


def test_morph_export_cancels_cleanly(face_video_factory, tmp_path):
    source, truth = face_video_factory(fps=25, duration=6.0, blink_times=(1.6, 4.2))
    info = media.probe(source)
    plan = make_plan("morph", info.fps, info.frame_count, truth.apex_frames[0])
    cancel = CancelToken()
    out = tmp_path / "cancelled.mp4"

    def on_progress(p):
        if p > 0.05:
            cancel.cancel()

    with pytest.raises(CancelledError):
        export_loop(source, plan, out, on_progress=on_progress, cancel=cancel)
    assert list(tmp_path.iterdir()) == []


def test_rules_bend_only_when_no_window_obeys_them(tmp_path):
    """A 4.8 s clip whose every 4 s window has a blink in a transition still gets a loop, marked as costly."""
    frames = np.stack([_texture(72, 96, seed=500 + i, blur=3.0) for i in range(120)])
    path = tmp_path / "crowded.mp4"
    _write_gray_video(path, frames)
    analysis = _synthetic_analysis(path, [_event(5, 6, 7), _event(50, 51, 53), _event(112, 113, 114)])
    small = source_frames_small(path, analysis.info)
    assert score_windows(analysis, small, 100, 10, ("crossfade",)) == []
    relaxed = score_windows(analysis, small, 100, 10, ("crossfade",), strict=False)
    assert relaxed and all(s.cost >= 100 for s in relaxed)
    plan, candidates = choose_plan(analysis, path, strategies=("crossfade",))
    assert plan.output_frames == 100 and plan.first <= 50 and 53 <= plan.last


def test_auto_measures_the_whole_transition_of_its_candidates(tmp_path):
    """A texture drifting right 0.3 px a frame: every 40-frame morph's head sits 12 px left of its tail and the
    morph slides it back against the motion. The seam cosine alone (wrap and turns) misses that; auto's
    candidates carry the report's reversal warning inside the transition, and its cost."""
    base = _texture(96, 128, seed=21, blur=3.0)
    frames = np.stack([_shifted(base, 0.3 * i) for i in range(80)])
    path = tmp_path / "drift.mp4"
    _write_gray_video(path, frames)
    analysis = _synthetic_analysis(path, [_event(36, 37, 39)])
    _, candidates = choose_plan(analysis, path, duration=1.6, crossfade=0.32, strategies=("morph",))
    assert candidates
    for c in candidates:
        n, k = c.plan.span, c.plan.crossfade_frames
        reversal = [w for w in c.report.warnings if w.kind == "reversal"]
        assert reversal and any(n - k - 1 <= t < n for t in reversal[0].frames), c.report.warnings
        assert "warns: reversal" in c.why


def test_a_warning_free_candidate_at_comparable_cost_comes_first():
    from navtalk_desktop.core.auto_loop import COMPARABLE_COST, Candidate, prefer_warning_free
    from navtalk_desktop.core.loop_plan import LoopPlan
    from navtalk_desktop.core.seam import measure_frames

    base = _texture(72, 96, seed=22, blur=3.0)
    smooth = np.stack([_shifted(base, 3 * np.sin(2 * np.pi * t / 50)) for t in range(50)])
    clean = measure_frames(smooth, 25.0)
    jumped = measure_frames(np.concatenate([smooth[:40], smooth[10:20]]), 25.0)
    assert clean.warnings == [] and "jump" in [w.kind for w in jumped.warnings]
    plan = LoopPlan("crossfade", 25, 1, 200, 60, 159, 100, 10)
    warned, free = Candidate(plan, jumped, 1.0, "warned"), Candidate(plan, clean, 1.0 + 0.8 * COMPARABLE_COST, "free")
    assert prefer_warning_free([warned, free]) == [free, warned]
    far = Candidate(plan, clean, 1.0 + 1.5 * COMPARABLE_COST, "far")
    assert prefer_warning_free([warned, far]) == [warned, far]  # not at any price
    assert prefer_warning_free([free, warned]) == [free, warned]


def test_the_slide_moves_with_the_source_and_holds_when_it_holds():
    """Tail and head drift 0.6 px a frame but repeat every third frame (as d12 does); the head sits 4 px
    ahead. A uniform slide keeps moving on the repeated frames; the paced one holds there, as the source does."""
    from navtalk_desktop.core.morph import SLIDE_CAP, slide_schedule, transition

    base = _texture(96, 128, seed=23, blur=3.0)
    k = 9
    pos = np.cumsum([0.0] + [0.0 if i % 3 == 2 else 0.6 for i in range(k)])  # steps into frames 0..k-1
    before = _shifted(base, pos[0])
    tails = [_shifted(base, p) for p in pos[1:]]
    heads = [_shifted(base, p + 4.0) for p in pos[1:]]
    geometry = slide_schedule(before, tails, heads)
    share = np.diff([0.0] + geometry)
    assert geometry[-1] == 1.0 and np.all(share > 0)
    held = [j for j in range(k) if j % 3 == 2]  # steps where both ends repeat their frame
    assert all(share[j] < 0.3 / k for j in held), share
    assert share.max() <= SLIDE_CAP / k + 1e-9
    # On the pixels: at a repeated frame the loop barely moves; the uniform slide moves 4/k px there.
    paced = [before] + transition(tails, heads, before)
    inner = (slice(16, -16), slice(24, -24))

    def dx(a, b):
        return cv2.phaseCorrelate(a[inner].astype(np.float64), b[inner].astype(np.float64))[0][0]

    paced_dx = [abs(dx(paced[j], paced[j + 1])) for j in held]
    uniform = [before] + [morph_frame(a, b, (j + 1) / k) for j, (a, b) in enumerate(zip(tails, heads))]
    uniform_dx = [abs(dx(uniform[j], uniform[j + 1])) for j in held]
    assert all(u > 0.15 for u in uniform_dx), uniform_dx  # (phase correlation reads a blend's shift short)
    # The held steps slide under 0.3/k of the 4 px (0.13 px); phase correlation reads 0.04-0.11 of them with
    # the cubic warp, against 0.19-0.23 px for the uniform slide.
    assert all(p < 0.12 and p < 0.6 * u for p, u in zip(paced_dx, uniform_dx)), (paced_dx, uniform_dx)
    # One step moves, the rest hold: that step takes at most SLIDE_CAP uniform shares, the rest share the remainder.
    jolt = [tails[0]] * 4 + [_shifted(base, 3.0)] * (k - 4)
    share = np.diff([0.0] + slide_schedule(tails[0], jolt, [_shifted(f, 4.0) for f in jolt]))
    assert abs(share[4] - SLIDE_CAP / k) < 1e-6 and np.isclose(share.sum(), 1.0), share
    # A steady source: the uniform slide, exactly.
    steady = [_shifted(base, 0.5 * (j + 1)) for j in range(k)]
    assert np.allclose(slide_schedule(base, steady, [_shifted(f, 4.0) for f in steady]),
                       [(j + 1) / k for j in range(k)], atol=0.02)


def test_the_export_paces_the_slide_as_the_prediction_does(tmp_path):
    """transition_frames (the export's full-resolution morph) and assemble_morph (what the report predicts
    from) make the same transition frames from the same source frames."""
    from navtalk_desktop.core.loop_plan import LoopPlan
    from navtalk_desktop.core.morph import assemble_morph, transition_frames

    base = _texture(96, 128, seed=24, blur=3.0)
    steps = [0.0 if i % 3 == 2 else 0.3 for i in range(60)]
    frames = np.stack([_shifted(base, p) for p in np.cumsum(steps)])
    path = tmp_path / "stop_and_go.mp4"
    _write_gray_video(path, frames)
    info = media.probe(path)
    plan = LoopPlan("morph", 25, 1, info.frame_count, 10, 49, 25, 8)
    w, h = info.width, info.height  # even: the I420 frames' luma is the whole frame
    rendered = np.stack([f.reshape(-1)[:w * h].reshape(h, w) for f in transition_frames(path, info, plan)])
    decoded = np.stack([f.reshape(-1)[:w * h].reshape(h, w) for f in media.iter_frames(path, info, yuv420=True)])
    predicted = assemble_morph(plan, decoded)  # from the same luma samples
    n, k = plan.span, plan.crossfade_frames
    assert rendered.shape == predicted[n - k:].shape
    diff = np.abs(rendered.astype(float) - predicted[n - k:]).mean(axis=(1, 2))
    assert diff.max() < 1.5, diff


@pytest.mark.parametrize("fixture", ["liveportrait_d12.mp4", "liveportrait_d18.mp4"])
def test_a_morph_is_measured_only_where_the_crossfade_of_its_window_ghosts(fixtures_dir, fixture):
    """Assembling and measuring morphs is most of planning's time; a morph only removes a double image, so
    where the crossfade of the same window has none (no ghost, the lips of both ends in one place), auto
    skips it (d18: still, d12: moving)."""
    from navtalk_desktop.core.auto_loop import GHOST_FREE, LIPS_APART_PX, lips_apart

    source = fixtures_dir / fixture
    analysis = analyze_video(source)
    _, candidates = choose_plan(analysis, source)
    crossfades = {(c.plan.first, c.plan.last): c for c in candidates if c.plan.strategy == "crossfade"}
    morphs = [(c.plan.first, c.plan.last) for c in candidates if c.plan.strategy == "morph"]
    assert crossfades and morphs
    for window in morphs:
        fade = crossfades.get(window)
        assert fade is None or fade.ghost > GHOST_FREE or lips_apart(analysis, fade.plan) > LIPS_APART_PX, window
    assert candidates[0].plan.strategy == "morph"
    if fixture == "liveportrait_d18.mp4":  # a still face whose crossfades draw its lips twice
        best = (candidates[0].plan.first, candidates[0].plan.last)
        fade = crossfades.get(best) or min(crossfades.values(), key=lambda c: c.cost)
        assert fade.ghost <= GHOST_FREE < 0.15 and lips_apart(analysis, fade.plan) > LIPS_APART_PX
        assert "lips drawn twice" in fade.why


def test_lips_apart_measures_where_a_crossfade_blends_two_mouths(fixtures_dir):
    """d18's mouth turns down at the end of its default window and is flat at the start: the two ends of its
    crossfade place the lip corner several pixels apart (a second lip line in the fade, seen in the decoded
    file); the same window's pure body frames, or a fade between the same frames, measure nothing."""
    from navtalk_desktop.core.auto_loop import LIPS_APART_PX, lips_apart
    from navtalk_desktop.core.loop_plan import make_plan

    analysis = analyze_video(fixtures_dir / "liveportrait_d18.mp4")
    fps, count = analysis.info.fps, analysis.info.frame_count
    fade = make_plan("crossfade", fps, count, 96, before=(96 - 58) / float(fps), duration=4.0, crossfade=0.4)
    assert (fade.first, fade.last) == (58, 177)
    assert lips_apart(analysis, fade) > 1.5 * LIPS_APART_PX
    assert lips_apart(analysis, make_plan("pingpong", fps, count, 96, duration=4.0)) == 0.0


def test_the_best_windows_neighbours_are_measured_too(fixtures_dir):
    """d18 (grain): the measured seam jumps between neighbouring start frames (59-178: 1.41x, 58-177: 0.95x)
    while the cheap distance and the 0.2 s gap between measured windows cannot tell; auto measures the best
    window's neighbours and keeps the smoother one."""
    source = fixtures_dir / "liveportrait_d18.mp4"
    plan, candidates = choose_plan(analyze_video(source), source)
    measured = {(c.plan.strategy, c.plan.first): c for c in candidates}
    around = [measured.get((plan.strategy, plan.first + d)) for d in (-1, 1)]
    assert any(around), sorted(measured)
    assert all(c is None or c.cost >= candidates[0].cost for c in around)
    assert candidates[0].report.seam_step_ratio < 1.2, candidates[0].why


def test_the_flow_cache_gives_each_pair_of_frames_its_own_flow():
    """Planning reuses a pair's flow (a neighbouring window pairs the same frames); a pair with other
    content, or the same frames the other way round, gets its own, as a fresh computation gives it."""
    import cv2

    from navtalk_desktop.core import morph

    rng = np.random.default_rng(3)
    a = cv2.GaussianBlur(rng.integers(0, 255, (90, 120), np.uint8), (0, 0), 3)
    b, c = np.roll(a, 3, axis=1), np.roll(a, -2, axis=0)
    morph._flow_cache._flows.clear()
    ab = morph.dense_flow(a, b)
    assert morph.dense_flow(a, b) is ab  # the same pair: the flow computed once
    assert not ab.flags.writeable  # shared, so nobody may change it in place
    ac, ba = morph.dense_flow(a, c), morph.dense_flow(b, a)

    def fresh(x, y):
        flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(x, y, None)
        return flow * morph.moving_weight(x, y, flow)[..., None]

    np.testing.assert_array_equal(ac, fresh(a, c))
    np.testing.assert_array_equal(ba, fresh(b, a))
    assert np.median(ab[..., 0]) > 2 and abs(np.median(ac[..., 0])) < 1 and np.median(ba[..., 0]) < -2
