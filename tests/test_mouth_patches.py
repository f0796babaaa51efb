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
    centre = (points[61] + points[291]) / 2
    assert abs(xs.mean() - centre[0]) < 2.0 and abs(ys.mean() - centre[1]) < 2.0
    width = np.linalg.norm(points[291] - points[61])
    assert abs((xs.max() - xs.min()) - width) < 3.0  # patch mouth width == face mouth width
    changed = np.any(out != rgb, axis=2)
    assert not np.any(changed & ~region_mask(points, rgb.shape, REGION_MARGIN))
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
    c = np.round((points[61] + points[291]) / 2).astype(int)
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
