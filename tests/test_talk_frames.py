"""talk_frames: the talking render's I420 frames. Drawing the mouth on a crop must give exactly what drawing
it on the whole frame gives, leave every other sample as decoded, and the loop is decoded once."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from navtalk_desktop.core import media, talk_frames
from navtalk_desktop.core.landmarks import landmarks_of_image
from navtalk_desktop.core.mouth.params import viseme_params
from navtalk_desktop.core.mouth.renderer import MouthRenderer
from navtalk_desktop.core.speech.visemes import VISEMES
from navtalk_desktop.core.talk_frames import I420Painter, loop_frames


@pytest.fixture(scope="module")
def clip(fixtures_dir):
    path = fixtures_dir / "liveportrait_d18.mp4"
    return path, media.probe(path)


@pytest.fixture(scope="module")
def face(clip):
    path, info = clip
    yuv = next(iter(media.iter_frames(path, info, yuv420=True, start_frame=10)))
    rgb = cv2.cvtColor(yuv, cv2.COLOR_YUV2RGB_I420)
    return yuv, MouthRenderer(landmarks_of_image(rgb)[None])


def _expected(yuv, renderer, params):
    """The whole frame converted to RGB, drawn, converted back; kept only where the drawing changed a pixel
    (chroma: where it changed one of the block's four), the rest as decoded."""
    h, w = yuv.shape[0] * 2 // 3, yuv.shape[1]
    rgb = cv2.cvtColor(yuv, cv2.COLOR_YUV2RGB_I420)
    drawn = renderer.render(rgb, 0, params)
    changed = np.any(drawn != rgb, axis=2)
    back = talk_frames.rgb_to_i420(drawn)
    out = yuv.copy()
    y, u, v = (p for p in talk_frames._planes(out, (h, w)))
    by, bu, bv = talk_frames._planes(back, (h, w))
    y[changed] = by[changed]
    blocks = changed.reshape(h // 2, 2, w // 2, 2).any(axis=(1, 3))
    u[blocks], v[blocks] = bu[blocks], bv[blocks]
    return out, changed


def test_the_crop_draws_exactly_what_the_whole_frame_draws(face):
    yuv, renderer = face
    h, w = yuv.shape[0] * 2 // 3, yuv.shape[1]
    painter = I420Painter(renderer, w, h)
    x0, y0, bw, bh = renderer.region_box(0, (h, w))
    outside = np.ones((h, w), bool)
    outside[y0:y0 + bh, x0:x0 + bw] = False
    for name in VISEMES[1:]:
        for weight in (0.6, 1.0):
            params = viseme_params(name, weight)
            expected, changed = _expected(yuv, renderer, params)
            got = painter.paint(yuv, 0, params)
            assert changed.any(), name
            assert np.array_equal(got, expected), f"{name} at {weight}: crop and whole frame differ"
            gy = talk_frames._planes(got, (h, w))[0]
            assert np.array_equal(gy[outside], talk_frames._planes(yuv, (h, w))[0][outside])
    assert painter.full_conversions == 0  # the warp never sampled beyond the crop
    assert painter.paint(yuv, 0, viseme_params(VISEMES[0], 1.0)) is yuv  # rest: the decoded frame itself


class _FarReader:
    """Copies a patch from the far top-left corner into a small region: it reads outside its region_box,
    and says so through last_reach."""

    last_reach = None

    def region_box(self, frame_index, shape):
        return 100, 100, 20, 20

    def render(self, frame, frame_index, params, inplace=False):
        out = frame if inplace else frame.copy()
        out[100:120, 100:120] = frame[0:20, 0:20]
        self.last_reach = (0.0, 0.0, 19.0, 19.0)
        return out


def test_a_warp_reaching_beyond_the_crop_is_drawn_from_the_whole_frame():
    rng = np.random.default_rng(3)
    h, w = 240, 320
    yuv = rng.integers(40, 200, size=(h * 3 // 2, w), dtype=np.uint8)
    painter = I420Painter(_FarReader(), w, h)
    got = painter.paint(yuv, 0, viseme_params("aa", 1.0))
    assert painter.full_conversions == 1
    rgb = cv2.cvtColor(yuv, cv2.COLOR_YUV2RGB_I420)
    back = cv2.cvtColor(got, cv2.COLOR_YUV2RGB_I420)
    # the pasted corner is the source's corner, not the scratch buffer's zeros (within the 4:2:0 round trip)
    assert np.abs(back[104:116, 104:116].astype(int) - rgb[4:16, 4:16]).mean() < 6
    assert np.array_equal(got[:100], yuv[:100])


def test_the_loop_is_decoded_once_and_replayed(clip, monkeypatch):
    path, info = clip
    calls = []
    real = media.iter_frames

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(media, "iter_frames", counting)
    n_loop = info.frame_count
    n_out = int(2.5 * n_loop)
    kept = list(loop_frames(path, info, n_out, yuv420=True))
    assert len(calls) == 1 and len(kept) == n_out
    assert [i for i, _ in kept] == [k % n_loop for k in range(n_out)]
    assert all(kept[k][1] is kept[k + n_loop][1] for k in range(n_loop))  # replayed, not decoded again
    monkeypatch.setattr(talk_frames, "LOOP_MEMORY_BYTES", 10 * kept[0][1].nbytes)  # a loop too long to keep
    decoded = list(loop_frames(path, info, n_out, yuv420=True))
    assert len(calls) == 1 + math.ceil(n_out / n_loop)
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(kept, decoded))


def test_i420_decoding_refuses_an_odd_size(tmp_path):
    from navtalk_desktop.core import ffmpeg

    odd = tmp_path / "odd.mp4"
    import subprocess

    subprocess.run([ffmpeg.ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                    "color=c=gray:s=99x64:d=0.2:r=25", "-pix_fmt", "yuv444p", str(odd)], check=True)
    with pytest.raises(ValueError, match="even"):
        next(iter(media.iter_frames(odd, yuv420=True)))
    with pytest.raises(ValueError, match="even"):
        I420Painter(None, 99, 64)


class _OnePixel:
    """Paints one pixel red: the odd corner of its 2x2 chroma block."""

    def region_box(self, frame_index, shape):
        return 100, 100, 4, 4

    def render(self, frame, frame_index, params, inplace=False):
        out = frame if inplace else frame.copy()
        out[101, 101] = (255, 0, 0)
        return out


def test_one_changed_pixel_takes_its_luma_and_its_blocks_chroma_and_nothing_else():
    h, w = 240, 320
    yuv = np.full((h * 3 // 2, w), 128, np.uint8)
    yuv[:h] = 90
    got = I420Painter(_OnePixel(), w, h).paint(yuv, 0, viseme_params("aa", 1.0))
    diff = np.argwhere(got != yuv)
    n = h * w
    flat = [int(r) * w + int(c) for r, c in diff]
    chroma = 50 * (w // 2) + 50
    assert flat == [101 * w + 101, n + chroma, n + n // 4 + chroma]
    y, u, v = talk_frames._planes(got, (h, w))
    assert y[101, 101] != 90 and v[50, 50] > 128 > u[50, 50]  # red: V up, U down


def test_chroma_is_the_mean_of_its_four_pixels():
    block = np.full((2, 2, 3), 100, np.uint8)
    block[1, 1] = (255, 0, 0)
    mean = np.full((2, 2, 3), 0, np.uint8)
    mean[...] = np.round(block.reshape(4, 3).mean(axis=0)).astype(np.uint8)
    got, want = talk_frames.rgb_to_i420(block), cv2.cvtColor(mean, cv2.COLOR_RGB2YUV_I420)
    assert np.array_equal(got[:2], cv2.cvtColor(block, cv2.COLOR_RGB2YUV_I420)[:2])  # luma per pixel
    assert np.abs(got[2:].astype(int) - want[2:]).max() <= 1  # chroma of the block's mean colour
    assert got.ravel()[5] > 128 + 20  # V: the red pixel counts although it is not the top-left one
