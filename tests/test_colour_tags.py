"""A morph's transition frames reach the encode as raw I420, which carries no colour tags. On a clip tagged
BT.709 (most HD footage, LivePortrait's d9/d13) the graph then converted them as if BT.601: the transition
came out ~2 luma levels darker than the body, a 4-6x step at every wrap (docs/seamless-loops.md, "Colour tags")."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from navtalk_desktop.core import ffmpeg, media
from navtalk_desktop.core.export import export_loop
from navtalk_desktop.core.loop_plan import make_plan

TAGS = "setparams=range=tv:colorspace=bt709:color_primaries=bt709:color_trc=bt709"


def _tagged_clip(path, tags: str) -> None:
    """Saturated colours drifting slowly: where BT.601 and BT.709 disagree most about luma."""
    graph = "scroll=h=0.002,format=yuv420p" + (f",{tags}" if tags else "")
    ffmpeg.run(["-y", "-f", "lavfi", "-i", "testsrc2=size=256x192:rate=25:duration=5", "-vf", graph,
                "-c:v", "libx264", "-preset", "veryfast", "-crf", "12", str(path)])


def _luma(path, info: media.VideoInfo) -> np.ndarray:
    frames = list(media.iter_frames(path, info, yuv420=True))
    return np.stack([f[: info.height].astype(np.float32) for f in frames])


def test_probe_reads_the_colour_tags(tmp_path):
    tagged, plain = tmp_path / "tagged.mp4", tmp_path / "plain.mp4"
    _tagged_clip(tagged, TAGS)
    _tagged_clip(plain, "")
    info = media.probe(tagged)
    assert (info.color_range, info.color_space, info.color_primaries, info.color_trc) == ("tv", "bt709", "bt709", "bt709")
    assert info.colour_tags() == "range=tv:colorspace=bt709:color_primaries=bt709:color_trc=bt709"
    assert media.VideoInfo.from_dict(info.to_dict(), tagged).colour_tags() == info.colour_tags()
    assert media.probe(plain).colour_tags() == ""


def test_a_tag_setparams_does_not_know_is_left_out_not_passed_on(tmp_path):
    from dataclasses import replace

    tagged = tmp_path / "tagged.mp4"
    _tagged_clip(tagged, TAGS)
    info = replace(media.probe(tagged), color_trc="reserved", color_primaries="unknown")
    assert info.colour_tags() == "range=tv:colorspace=bt709"
    assert replace(info, color_trc="gamma28").colour_tags().endswith("color_trc=bt470bg")  # ffmpeg's other name


def test_probe_reads_matrix_primaries_and_transfer_apart(fixtures_dir):
    info = media.probe(fixtures_dir / "liveportrait_d12.mp4")  # tagged tv, smpte170m/smpte170m/bt709
    assert (info.color_space, info.color_primaries, info.color_trc) == ("smpte170m", "smpte170m", "bt709")


@pytest.mark.parametrize("tags", [TAGS, ""], ids=["bt709", "untagged"])
def test_a_morphs_transition_keeps_the_bodys_colour_on_a_tagged_clip(tmp_path, tags):
    clip, out = tmp_path / "clip.mp4", tmp_path / "loop.mp4"
    _tagged_clip(clip, tags)
    info = media.probe(clip)
    plan = make_plan("morph", Fraction(25), info.frame_count, loop_point=50)
    export_loop(clip, plan, out, info=info)
    src, loop = _luma(clip, info), _luma(out, media.probe(out))
    k, n = plan.crossfade_frames, plan.output_frames
    # the body is source frames first..; the last transition frame is the head's last, source frame first - 1
    assert abs(float(loop[n - k - 1].mean() - src[plan.first + n - k - 1].mean())) < 0.3
    last = float(loop[n - 1].mean() - src[plan.first - 1].mean())
    assert abs(last) < 0.3, f"the transition's last frame is {last:+.2f} luma levels off its source frame"
    steps = np.abs(np.diff(loop, axis=0)).mean(axis=(1, 2))
    wrap = float(np.abs(loop[0] - loop[-1]).mean())
    assert wrap <= 1.3 * float(np.median(steps))
    assert media.probe(out).colour_tags() == info.colour_tags()  # the file keeps the source's tags
