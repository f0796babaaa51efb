"""Probing real files and rejecting bad ones with specific messages."""

from fractions import Fraction

import numpy as np
import pytest

from navtalk_desktop.core import media
from navtalk_desktop.core.errors import InputError


def test_probe_real_clips(fixtures_dir, annotations):
    for name in ("liveportrait_d18.mp4", "liveportrait_d12.mp4"):
        info = media.probe(fixtures_dir / name)
        truth = annotations[name]
        assert info.frame_count == truth["frames"]
        assert info.fps == Fraction(truth["fps"])
        assert f"{info.width}x{info.height}" == truth["size"]
        assert info.has_audio


def test_iter_frames_trims_exactly(fixtures_dir):
    path = fixtures_dir / "liveportrait_d12.mp4"
    everything = media.read_frames(path, gray=True)
    part = media.read_frames(path, start_frame=40, end_frame=47, gray=True)
    assert everything.shape[0] == 183
    assert part.shape[0] == 7
    # Frame-exact: the trimmed frames are the same frames as in the full decode.
    assert np.array_equal(part, everything[40:47])


def test_rgb_via_i420_is_close_to_ffmpegs_rgb_and_falls_back_on_odd_sizes(tmp_path, fixtures_dir):
    """The landmark pass's cheaper RGB (I420 converted by OpenCV) matches swscale's within a level or two,
    frame for frame; an odd size, which I420 cannot carry, gets swscale's RGB exactly."""
    from navtalk_desktop.core import ffmpeg

    path = fixtures_dir / "liveportrait_d12.mp4"
    exact = media.read_frames(path, end_frame=12)
    fast = media.read_frames(path, end_frame=12, rgb_via_i420=True)
    assert fast.shape == exact.shape and fast.dtype == np.uint8
    diff = np.abs(fast.astype(np.int16) - exact)
    assert diff.mean() < 1.5 and np.percentile(diff, 99) <= 6
    # a frame shifted by one is far from its neighbour: the comparison above would catch an off-by-one
    assert np.abs(fast[1:].astype(np.int16) - exact[:-1]).mean() > diff.mean()
    odd = tmp_path / "odd.mp4"
    ffmpeg.run(["-y", "-i", str(path), "-frames:v", "4", "-vf", "format=yuv444p,crop=301:201:0:0", "-c:v", "libx264",
                "-pix_fmt", "yuv444p", "-an", str(odd)])
    assert (media.probe(odd).width, media.probe(odd).height) == (301, 201)
    assert np.array_equal(media.read_frames(odd, rgb_via_i420=True), media.read_frames(odd))


def test_rotation_metadata_is_applied(tmp_path, fixtures_dir):
    from navtalk_desktop.core import ffmpeg

    plain = tmp_path / "plain.mp4"
    ffmpeg.run(["-y", "-i", str(fixtures_dir / "liveportrait_d18.mp4"), "-vf", "crop=480:320:0:80",
                "-c:v", "libx264", "-an", str(plain)])
    rotated = tmp_path / "rotated.mp4"  # same frames, with a display-matrix rotation as phones write
    ffmpeg.run(["-y", "-display_rotation", "90", "-i", str(plain), "-c", "copy", str(rotated)])
    assert (media.probe(plain).width, media.probe(plain).height) == (480, 320)
    info = media.probe(rotated)
    assert info.rotation in (90, 270)
    assert (info.width, info.height) == (320, 480)
    frame = next(media.iter_frames(rotated, info))
    assert frame.shape == (480, 320, 3)


@pytest.mark.parametrize("case", ["missing", "directory", "empty", "truncated", "image", "text", "audio", "zero"])
def test_bad_inputs_have_specific_messages(case, bad_inputs):
    path, expected = bad_inputs[case]
    with pytest.raises(InputError, match=expected):
        media.probe(path)
