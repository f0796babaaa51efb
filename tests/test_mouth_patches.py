"""User PNG patch libraries: the documented format loads, places by the lip corners, and fails clearly."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from navtalk_desktop.core.errors import InputError
from navtalk_desktop.core.landmarks import landmarks_of_image
from navtalk_desktop.core.mouth.geometry import REGION_MARGIN, region_mask
from navtalk_desktop.core.mouth.params import REST, viseme_params
from navtalk_desktop.core.mouth.patches import PatchLibrary, PatchMouthRenderer
from navtalk_desktop.core.resources import sample_portrait

W, H = 256, 160


def _patch(color: tuple[int, int, int], open_height: int) -> np.ndarray:
    """A drawn mouth on the documented canvas: corners at (25%, 50%) and (75%, 50%)."""
    img = np.zeros((H, W, 4), np.uint8)
    cv2.ellipse(img, (W // 2, H // 2), (W // 4, max(2, open_height)), 0, 0, 360, (*color, 255), -1)
    return img


def _write(folder, name, rgba):
    cv2.imwrite(str(folder / f"{name}.png"), cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))


@pytest.fixture(scope="module")
def portrait():
    rgb = cv2.cvtColor(cv2.imread(str(sample_portrait())), cv2.COLOR_BGR2RGB)
    return rgb, landmarks_of_image(rgb)


@pytest.fixture
def library_dir(tmp_path):
    _write(tmp_path, "sil", _patch((200, 60, 60), 3))
    _write(tmp_path, "aa", _patch((0, 0, 255), 30))
    _write(tmp_path, "pbm", _patch((0, 255, 0), 2))
    return tmp_path


def test_patch_lands_on_the_lip_corners_and_stays_in_region(portrait, library_dir):
    rgb, points = portrait
    renderer = PatchMouthRenderer(points[None], PatchLibrary.load(library_dir))
    out = renderer.render(rgb, 0, viseme_params("aa"))
    blue = (out[..., 2] > 200) & (out[..., 0] < 60) & (out[..., 1] < 60)
    ys, xs = np.nonzero(blue)
    # On the same mesh as the generated mouth: the corners where this pose's warp puts them.
    corners = renderer.mesh.mouth_corners(0, rgb.shape, viseme_params("aa"))
    centre = corners.mean(axis=0)
    assert abs(xs.mean() - centre[0]) < 2.0 and abs(ys.mean() - centre[1]) < 2.0
    width = np.linalg.norm(points[291] - points[61])
    assert abs((xs.max() - xs.min()) - width) < 3.0  # patch mouth width == face mouth width
    # Outside the mouth region the frame is exactly the generated jaw warp's (which never touches
    # anything above the nose base: tests/test_mouth_renderer.py).
    outside = ~region_mask(points, rgb.shape, REGION_MARGIN)
    warped = renderer.mesh.render(rgb, 0, viseme_params("aa"))
    assert np.array_equal(out[outside], warped[outside])
    assert renderer.render(rgb, 0, REST) is rgb


def test_missing_visemes_fall_back_and_blend_by_weight(portrait, library_dir):
    rgb, points = portrait
    library = PatchLibrary.load(library_dir)
    assert library.image_for("ae") is library.images["aa"]  # ae -> aa
    assert library.image_for("uw") is library.images["pbm"]  # uw -> w -> pbm
    assert library.image_for("kg") is library.images["sil"]  # kg -> tdn -> sz -> sil
    renderer = PatchMouthRenderer(points[None], library)
    pose = viseme_params("aa")
    mixed = type(pose)(**{**pose.__dict__, "weights": {"aa": 0.5, "pbm": 0.5}})
    out = renderer.render(rgb, 0, mixed)
    c = np.round(renderer.mesh.mouth_corners(0, rgb.shape, mixed).mean(axis=0)).astype(int)
    r, g, b = out[c[1], c[0]].astype(int)
    assert 90 < g < 160 and 90 < b < 160 and r < 40  # half green, half blue


def test_manifest_moves_the_corners(portrait, library_dir):
    rgb, points = portrait
    (library_dir / "patches.json").write_text(json.dumps({"left_corner": [64, 60], "right_corner": [192, 60]}))
    library = PatchLibrary.load(library_dir)
    assert library.left == (64.0, 60.0)
    out = PatchMouthRenderer(points[None], library).render(rgb, 0, viseme_params("aa"))
    ys, _ = np.nonzero((out[..., 2] > 200) & (out[..., 0] < 60))
    centre_y = (points[61][1] + points[291][1]) / 2
    # The drawn mouth (canvas y=80) now sits 20 canvas px below the corners, scaled to the face.
    scale = np.linalg.norm(points[291] - points[61]) / 128.0
    assert ys.mean() - centre_y == pytest.approx(20 * scale, abs=1.5)


@pytest.mark.parametrize("problem, message", [
    ("no_sil", "needs at least sil.png"),
    ("rgb", "no transparency"),
    ("unknown", "unknown viseme name"),
    ("sizes", "share one canvas size"),
    ("missing", "not found"),
])
def test_bad_patch_folders_are_explained(tmp_path, problem, message):
    folder = tmp_path / "set"
    folder.mkdir()
    if problem != "no_sil":
        _write(folder, "sil", _patch((200, 60, 60), 3))
    if problem == "no_sil":
        _write(folder, "aa", _patch((0, 0, 255), 30))
    elif problem == "rgb":
        cv2.imwrite(str(folder / "aa.png"), np.zeros((H, W, 3), np.uint8))
    elif problem == "unknown":
        _write(folder, "ahh", _patch((0, 0, 255), 30))
    elif problem == "sizes":
        cv2.imwrite(str(folder / "aa.png"), np.zeros((H // 2, W // 2, 4), np.uint8))
    elif problem == "missing":
        folder = tmp_path / "nope"
    with pytest.raises(InputError, match=message):
        PatchLibrary.load(folder)


def test_a_patch_sets_open_mouth_drops_the_chin_too(tmp_path):
    """On the same mesh: under a patch the jaw warp still applies, so an open patch drops the chin (read
    from the pixels of the chin/neck boundary, as for the generated mouth), a closed one does not."""
    from chin_helpers import COLUMNS, chin_shifts

    from navtalk_desktop.core.animator import fit_to_size, load_rgb
    from navtalk_desktop.core.mouth.face_model import FaceModel

    rgb = fit_to_size(load_rgb(sample_portrait()), 1920, 1080)
    points = landmarks_of_image(rgb)
    face = FaceModel.of(points)
    _write(tmp_path, "sil", _patch((200, 60, 60), 3))
    _write(tmp_path, "aa", _patch((40, 10, 10), 30))
    renderer = PatchMouthRenderer(points[None], PatchLibrary.load(tmp_path))
    shifts, matches = chin_shifts(rgb, renderer.render(rgb, 0, viseme_params("aa")), face)
    assert shifts[np.abs(COLUMNS) <= 0.15].min() >= 0.05 * face.frame.width, shifts
    assert matches.min() >= 0.95 and np.abs(np.diff(shifts)).max() <= 1.0  # a clean, continuous drop
    closed, _ = chin_shifts(rgb, renderer.render(rgb, 0, viseme_params("pbm")), face)
    assert np.abs(closed[np.abs(COLUMNS) <= 0.15]).max() <= 0.02 * face.frame.width, closed
