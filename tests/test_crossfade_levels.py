"""The crossfade's fade frames have the planned weights, frame by frame, in the encoded file.

A lossless clip whose frame i is flat gray 20 + 3 i: each output frame's level tells which source frames
it mixes and with which weights (fade frame j shows the head frame at (j + 1) / K, the last one fully).
"""

from __future__ import annotations

import numpy as np

from navtalk_desktop.core import ffmpeg, media
from navtalk_desktop.core.export import export_loop
from navtalk_desktop.core.loop_plan import make_plan


def test_fade_frames_carry_the_planned_weights(tmp_path):
    level = lambda i: 20 + 3 * i  # noqa: E731
    raw = np.repeat(np.array([level(i) for i in range(70)], np.uint8), 32 * 32)
    (tmp_path / "levels.gray").write_bytes(raw.tobytes())
    source = tmp_path / "levels.mp4"
    ffmpeg.run(["-y", "-f", "rawvideo", "-pix_fmt", "gray", "-s", "32x32", "-r", "25", "-i",
                str(tmp_path / "levels.gray"), "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv444p", str(source)])
    plan = make_plan("crossfade", 25, 70, 35, duration=2.0, before=1.0, crossfade=0.4)
    n, k = plan.span, plan.crossfade_frames
    assert k == 10
    expected = [level(plan.first + t) if t < n - k else
                (1 - w) * level(plan.first + t) + w * level(plan.first - k + t - (n - k))
                for t in range(n) for w in [(t - (n - k) + 1) / k]]
    out = export_loop(source, plan, tmp_path / "loop.mp4")
    got = media.read_frames(out.path, media.probe(out.path), gray=True).mean(axis=(1, 2))
    assert len(got) == n == plan.output_frames
    assert np.abs(got - np.array(expected)).max() <= 1.01
    assert abs(got[-1] - level(plan.first - 1)) <= 1.01  # the wrap continues into the first frame
