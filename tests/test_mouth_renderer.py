"""The weight-free mouth: it opens and closes for real (MediaPipe sees it), follows the head, stays
inside its region, and is fast."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from navtalk_desktop.core.animator import AnimationSpec, render_face_video
from navtalk_desktop.core.landmarks import landmarks_of_image, load_or_compute_landmarks
from navtalk_desktop.core.media import read_frames
from navtalk_desktop.core.mouth.geometry import LIP_INDICES, REGION_MARGIN, region_mask
from navtalk_desktop.core.mouth.params import REST, MouthParams, viseme_params
from navtalk_desktop.core.mouth.renderer import MouthRenderer
from navtalk_desktop.core.resources import sample_portrait
from navtalk_desktop.core.speech.visemes import VISEMES

EXTREME_POSES = [
    MouthParams(jaw_open=1.0, lip_width=1.0, lip_round=0.0, upper_lip_raise=1.0),
    MouthParams(jaw_open=1.0, lip_width=-1.0, lip_round=1.0, upper_lip_raise=1.0),
    MouthParams(jaw_open=0.0, lip_width=1.0, lip_round=0.0, upper_lip_raise=0.0, closed=1.0),
    MouthParams(jaw_open=0.6, lip_width=-1.0, lip_round=1.0, upper_lip_raise=0.0, closed=0.5),
]


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    """A small moving-head loop made by the face animator, with its cached landmarks."""
    folder = tmp_path_factory.mktemp("mouth")
    mp = pytest.MonkeyPatch()
    mp.setenv("NAVTALK_CACHE_DIR", str(folder / "cache"))
    path = folder / "loop.mp4"
    render_face_video(sample_portrait(), path, AnimationSpec(width=288, height=288, fps=25, duration=2.0, motion=2.0))
    track = load_or_compute_landmarks(path)
    frames = read_frames(path)
    yield frames, track
    mp.undo()


@pytest.fixture(scope="module")
def portrait():
    rgb = cv2.cvtColor(cv2.imread(str(sample_portrait())), cv2.COLOR_BGR2RGB)
    return rgb, landmarks_of_image(rgb)


def _inner_gap(points: np.ndarray) -> float:
    return float(np.linalg.norm(points[13] - points[14]) / np.linalg.norm(points[61] - points[291]))


def test_mediapipe_sees_the_mouth_open_and_close(portrait):
    rgb, points = portrait
    renderer = MouthRenderer(points[None])
    base = _inner_gap(points)
    opened = landmarks_of_image(renderer.render(rgb, 0, viseme_params("aa")))
    closed = landmarks_of_image(renderer.render(rgb, 0, viseme_params("pbm")))
    rounded = landmarks_of_image(renderer.render(rgb, 0, viseme_params("uw")))
    assert _inner_gap(opened) > base + 0.15
    assert _inner_gap(closed) < 0.5 * base  # the portrait smiles with open lips: p/b/m shuts them
    width = lambda p: float(np.linalg.norm(p[61] - p[291]))  # noqa: E731
    assert width(rounded) < 0.93 * width(points)  # "oo" narrows the mouth


def test_pixels_outside_the_dilated_mouth_never_change(loop):
    frames, track = loop
    renderer = MouthRenderer(track)
    poses = [viseme_params(v) for v in VISEMES if v != "sil"] + EXTREME_POSES
    changed_somewhere = 0
    for index, frame in enumerate(frames):
        points = track.points[index]
        allowed = region_mask(points, frame.shape, REGION_MARGIN)
        assert allowed is not None
        # Independent bound: distance of every changed pixel from the lips' hull, in mouth widths.
        hull = cv2.convexHull(points[list(LIP_INDICES)].astype(np.float32))
        mouth_width = float(np.linalg.norm(points[61] - points[291]))
        for pose in poses:
            out = renderer.render(frame, index, pose)
            diff = np.any(out != frame, axis=2)
            assert not np.any(diff & ~allowed), f"frame {index}: pixels changed outside the mouth region"
            ys, xs = np.nonzero(diff)
            if len(xs):
                far = max(-cv2.pointPolygonTest(hull, (float(x), float(y)), True) for x, y in
                          zip(xs[::7], ys[::7]))
                assert far <= REGION_MARGIN * mouth_width + 1.5
                changed_somewhere += 1
    assert changed_somewhere >= len(frames) * (len(poses) - 2)  # the poses really drew something


def test_the_mouth_follows_the_head(loop):
    frames, track = loop
    renderer = MouthRenderer(track)
    centres, lips = [], []
    for index in range(0, len(frames), 3):
        out = renderer.render(frames[index], index, viseme_params("aa"))
        diff = np.any(np.abs(out.astype(int) - frames[index].astype(int)) > 40, axis=2)
        ys, xs = np.nonzero(diff)
        centres.append((xs.mean(), ys.mean()))
        lips.append(track.points[index][[13, 14, 61, 291]].mean(axis=0))
    centres, lips = np.array(centres), np.array(lips)
    assert np.ptp(lips[:, 0]) + np.ptp(lips[:, 1]) > 3.0  # the head does move in this loop
    offsets = centres - lips
    assert np.ptp(offsets[:, 0]) < 2.5 and np.ptp(offsets[:, 1]) < 2.5  # the drawing moves with it


def test_rest_pose_and_faceless_frames_are_left_alone(loop):
    frames, track = loop
    renderer = MouthRenderer(track)
    frame = frames[0]
    assert renderer.render(frame, 0, REST) is frame
    faceless = np.full_like(track.points[:1], np.nan)
    assert MouthRenderer(faceless).render(frame, 0, viseme_params("aa")) is frame
    # Indices wrap around the loop.
    a = renderer.render(frames[1], 1, viseme_params("aa"))
    b = renderer.render(frames[1], 1 + track.frame_count, viseme_params("aa"))
    assert np.array_equal(a, b)


def test_render_is_fast_at_720p(portrait):
    rgb, points = portrait
    scale = 720 / rgb.shape[0]
    frame = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    frame = np.ascontiguousarray(np.pad(frame, ((0, 0), (280, 280), (0, 0)), mode="edge"))  # 1280x720
    pts = points * scale + np.array([280, 0], np.float32)
    renderer = MouthRenderer(pts[None])
    poses = [viseme_params(v) for v in VISEMES if v != "sil"]
    renderer.render(frame, 0, poses[0])  # geometry cached once per frame
    times = []
    for pose in poses * 3:
        t = time.perf_counter()
        renderer.render(frame, 0, pose)
        times.append(time.perf_counter() - t)
    assert np.median(times) < 0.020, f"p50 {np.median(times) * 1000:.1f} ms"


def test_large_faces_use_a_coarse_map_with_the_same_result(portrait, monkeypatch):
    import navtalk_desktop.core.mouth.renderer as renderer_module

    rgb, points = portrait
    frame = cv2.resize(rgb, None, fx=3.5, fy=3.5, interpolation=cv2.INTER_CUBIC)  # mouth ~150 px, as at 1080p
    pts = points * 3.5
    coarse = MouthRenderer(pts[None])
    assert coarse.geometry(0, frame.shape[:2]).w * coarse.geometry(0, frame.shape[:2]).h > \
        renderer_module.COARSE_MAP_ABOVE_PX
    allowed = region_mask(pts, frame.shape, REGION_MARGIN)
    results = {}
    for pose in (viseme_params("aa"), viseme_params("uw"), EXTREME_POSES[0], EXTREME_POSES[2]):
        out = coarse.render(frame, 0, pose)
        assert not np.any(np.any(out != frame, axis=2) & ~allowed)
        results[id(pose)] = (pose, out)
    monkeypatch.setattr(renderer_module, "COARSE_MAP_ABOVE_PX", 10**9)
    fine = MouthRenderer(pts[None])
    for pose, out in results.values():
        exact = fine.render(frame, 0, pose)
        diff = np.abs(exact.astype(int) - out.astype(int))
        assert diff.mean() < 0.2 and np.percentile(diff[allowed], 99) < 20


def _centre_column(renderer: MouthRenderer, out: np.ndarray, pose: MouthParams, steps: int = 21) -> np.ndarray:
    """Colours down the middle of the opening, from the upper inner lip (0) to the lower one (1)."""
    from navtalk_desktop.core.mouth.geometry import deform

    geo = renderer.geometry(0, out.shape[:2])
    local = deform(geo.controls, pose.as_array(), pose.closed)
    upper, lower = local[renderer._inner_upper], local[renderer._inner_lower]
    top = np.interp(0.0, *zip(*sorted(upper.tolist())))
    bottom = np.interp(0.0, *zip(*sorted(lower.tolist())))
    colours = []
    for s in np.linspace(0.0, 1.0, steps):
        x, y = geo.controls.frame.to_global(np.array([0.0, top + (bottom - top) * s]))
        colours.append(out[int(round(y)), int(round(x))].astype(int))
    return np.array(colours)


def test_open_mouth_is_filled_dark_with_a_hint_of_teeth(portrait, monkeypatch):
    """The fill's colours are swapped for unmistakable ones, so what the test sees can only come from it:
    teeth (green here) in a band under the upper lip, the deep mouth (blue here) in the middle, a gradient
    from the lips' edge inwards; nothing of it when the lips are closed or barely apart."""
    import navtalk_desktop.core.mouth.renderer as renderer_module

    monkeypatch.setattr(renderer_module, "TEETH_COLOR", np.array([0.0, 255.0, 0.0]))
    monkeypatch.setattr(renderer_module, "DEEP_MOUTH", np.array([0.0, 0.0, 255.0]))
    rgb, points = portrait
    renderer = MouthRenderer(points[None])
    pose = viseme_params("aa")
    column = _centre_column(renderer, renderer.render(rgb, 0, pose), pose)
    green = (column[:, 1] > 120) & (column[:, 0] < 80) & (column[:, 2] < 120)
    blue = (column[:, 2] > 150) & (column[:, 0] < 60) & (column[:, 1] < 60)
    assert green[1:6].any() and not green[8:].any(), column  # teeth just under the upper lip only
    assert blue[6:12].any(), column  # the deep mouth in the middle of the opening...
    assert column[-2, 2] < column[8:12, 2].max() - 60  # ...fading towards the lower lip (a gradient)
    # Real colours: the inside is dark, the teeth light.
    monkeypatch.undo()
    column = _centre_column(renderer, renderer.render(rgb, 0, pose), pose)
    lum = column.mean(axis=1)
    assert lum[6:12].min() < 40 and lum[1:4].max() > 140
    # Closed lips (p/b/m) and a barely open mouth show no teeth and no dark hole.
    monkeypatch.setattr(renderer_module, "TEETH_COLOR", np.array([0.0, 255.0, 0.0]))
    monkeypatch.setattr(renderer_module, "DEEP_MOUTH", np.array([0.0, 0.0, 255.0]))
    for quiet in (viseme_params("pbm"), MouthParams(jaw_open=0.0, lip_width=0.3, closed=1.0)):
        out = renderer.render(rgb, 0, quiet).astype(int)
        assert not np.any((out[..., 1] > 200) & (out[..., 0] < 60)), "teeth drawn on closed lips"
        assert not np.any((out[..., 2] > 200) & (out[..., 0] < 40) & (out[..., 1] < 40)), "a hole in closed lips"
