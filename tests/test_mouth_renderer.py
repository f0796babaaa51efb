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
from navtalk_desktop.core.mouth.face_model import FaceModel, inner_gap
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


_inner_gap = inner_gap


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


def test_nothing_above_the_nose_base_or_outside_the_jaw_region_changes(loop):
    """Pixel-exact: every pixel on or above the nose-base line (landmarks 2, 97, 98, 326, 327), and every
    pixel outside the jaw's box, is the loop's own, for every viseme and extreme pose."""
    frames, track = loop
    renderer = MouthRenderer(track)
    poses = [viseme_params(v) for v in VISEMES if v != "sil"] + EXTREME_POSES
    changed_somewhere = 0
    for index in range(0, len(frames), 4):
        frame = frames[index]
        face = FaceModel.of(track.points[index])
        assert face is not None
        ys, xs = np.mgrid[0:frame.shape[0], 0:frame.shape[1]]
        local_v = ((xs - face.frame.origin[0]) * face.frame.ey[0] + (ys - face.frame.origin[1]) * face.frame.ey[1])
        above_nose = local_v / face.frame.width <= face.nose_y
        x0, y0, w, h = renderer.region_box(index, frame.shape)
        outside = np.ones(frame.shape[:2], bool)
        outside[y0:y0 + h, x0:x0 + w] = False
        just_below = (local_v / face.frame.width > face.nose_y) & (local_v / face.frame.width <= face.nose_y + 0.03)
        for pose in poses:
            out = renderer.render(frame, index, pose)
            diff = np.any(out != frame, axis=2)
            assert not np.any(diff & above_nose), f"frame {index}: pixels above the nose base changed"
            # ... and the warp fades in below it: no seam along the nose-base line.
            step = np.abs(out.astype(int) - frame.astype(int)).max(axis=2)
            assert step[just_below].max() <= 10, f"frame {index}: a seam under the nose base"
            assert not np.any(diff & outside), f"frame {index}: pixels outside the jaw region changed"
            changed_somewhere += int(diff.sum() > 20)
    assert changed_somewhere >= (len(range(0, len(frames), 4))) * (len(poses) - 2)


def test_the_warp_never_folds_or_tears(portrait):
    """Around the lips (cheeks, chin, jaw line, the neck under the chin) the backward map the frame is
    drawn with is smooth and keeps orientation: no tearing or smearing, for every viseme and extreme
    pose. Only the parting line inside the lips' box may be discontinuous (the lips part there)."""
    rgb, points = portrait
    renderer = MouthRenderer(points[None])
    for p in [viseme_params(v) for v in VISEMES if v != "sil"] + EXTREME_POSES:
        renderer.render(rgb, 0, p)
        map_x, map_y, box = renderer.last_maps
        dxx, dxy = np.diff(map_x, axis=1)[:-1], np.diff(map_y, axis=1)[:-1]
        dyx, dyy = np.diff(map_x, axis=0)[:, :-1], np.diff(map_y, axis=0)[:, :-1]
        det = dxx * dyy - dxy * dyx
        outside = np.ones(det.shape, bool)
        bx0, by0, bx1, by1 = box
        outside[by0:by1, bx0:bx1] = False
        assert det[outside].min() > 0.02, (p.viseme, float(det[outside].min()))
        assert np.abs(dyy[outside] - 1).max() < 1.5  # no jump under the chin: a smooth stretch


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



def test_the_chin_and_neck_boundary_stays_continuous_as_the_jaw_opens():
    """Read from the pixels: along every column across the chin, the grey profile over the chin/neck
    boundary (from above the chin line down into the neck) in the rendered frame is the source's profile
    shifted down, each column matching closely (no tearing, no smearing), the shift varying smoothly from
    column to column, and the chin really dropping. A jaw field cut off at the chin line tears it."""
    from chin_helpers import COLUMNS, chin_shifts

    from navtalk_desktop.core.animator import fit_to_size, load_rgb

    rgb = fit_to_size(load_rgb(sample_portrait()), 1920, 1080)  # a face big enough to measure a few px
    points = landmarks_of_image(rgb)
    face = FaceModel.of(points)
    renderer = MouthRenderer(points[None])
    for pose in (viseme_params("aa"), MouthParams(jaw_open=1.0, lip_width=0.0, lip_round=0.0, upper_lip_raise=0.0)):
        shifts, matches = chin_shifts(rgb, renderer.render(rgb, 0, pose), face)
        assert matches.min() >= 0.95, (pose.viseme, np.round(matches, 3))  # the same boundary, only moved
        assert np.abs(np.diff(shifts)).max() <= 1.0, (pose.viseme, shifts)  # smooth along the jaw line
        centre = shifts[np.abs(COLUMNS) <= 0.15]
        assert centre.min() >= 0.05 * face.frame.width, (pose.viseme, shifts)  # the chin does drop
