"""Variable-frame-rate sources: detected from packet timestamps, analysed and exported at a constant rate.

The clip is the d18 fixture (30 fps, a blink with its apex at frame 95 = 3.17 s) with frames dropped
by ffmpeg's `select` and written with `-fps_mode vfr`: every 3rd frame kept before 1.5 s, every 2nd
until 3 s, all after (intervals of 100, 67 and 33 ms), the way a phone drops frames in low light.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from navtalk_desktop.cli.main import main as cli_main
from navtalk_desktop.core import ffmpeg, media
from navtalk_desktop.core.analysis import analyze_video

KEEP = "lt(n,45)*not(mod(n,3))+gte(n,45)*lt(n,90)*not(mod(n,2))+gte(n,90)"


@pytest.fixture(scope="module")
def vfr_clip(tmp_path_factory, fixtures_dir):
    out = tmp_path_factory.mktemp("vfr") / "phone_vfr.mp4"
    ffmpeg.run(["-y", "-i", str(fixtures_dir / "liveportrait_d18.mp4"), "-vf", f"select='{KEEP}'",
                "-fps_mode", "vfr", "-an", "-c:v", "libx264", "-crf", "16", str(out)])
    return out


def test_vfr_is_detected_and_resampled_on_true_timestamps(vfr_clip, fixtures_dir):
    info = media.probe(vfr_clip)
    assert info.vfr and info.stored_frames == 15 + 22 + 126
    assert info.fps == 30 and info.frame_count == 216  # 7.2 s at the clip's own short interval
    assert info.interval_ms[0] == pytest.approx(33.3, abs=0.2) and info.interval_ms[1] == pytest.approx(133.3, abs=1)  # 42 -> 46
    frames = media.read_frames(vfr_clip, info, gray=True, scale_width=96)
    assert len(frames) == info.frame_count
    # After 3 s every source frame was kept: resampled frame i is original frame i, not a neighbour.
    original = media.read_frames(fixtures_dir / "liveportrait_d18.mp4", gray=True, scale_width=96).astype(float)
    for i in (100, 150, 200):
        diffs = [np.abs(frames[i].astype(float) - original[j]).mean() for j in (i - 3, i, i + 3)]
        assert diffs[1] < min(diffs[0], diffs[2]), (i, diffs)
    cfr = media.probe(fixtures_dir / "liveportrait_d18.mp4")
    assert not cfr.vfr and cfr.stored_frames == cfr.frame_count == 216 and cfr.vfr_note() == ""


def test_vfr_blink_is_reported_at_its_true_time(vfr_clip, annotations):
    result = analyze_video(vfr_clip, use_cache=False)
    apex = annotations["liveportrait_d18.mp4"]["blinks"][0]["apex"]  # 95 at 30 fps = 3.17 s
    times = [e["apex_time"] for e in result.to_dict(curves=False)["events"]]
    assert any(abs(t - apex / 30) <= 2 / 30 for t in times), times
    assert any("variable frame rate" in m and "constant 30 fps" in m for m in result.messages)
    assert "variable frame rate" in result.summary()


def test_vfr_export_plays_at_the_chosen_constant_rate(vfr_clip, tmp_path, capsys):
    out = tmp_path / "loop.mp4"
    assert cli_main(["export", str(vfr_clip), "--out", str(out), "--strategy", "pingpong", "--at", "3.17",
                     "--duration", "2"]) == 0
    err = capsys.readouterr().err
    assert "variable frame rate" in err and "exports play at 30 fps" in err
    loop = media.probe(out)
    sidecar = json.loads((tmp_path / "loop.mp4.json").read_text())
    assert not loop.vfr and loop.fps == 30
    assert loop.frame_count == sidecar["plan"]["output_frames"] == 60
    assert sidecar["source"]["vfr"] is True and sidecar["source"]["fps"] == 30
    assert sidecar["source"]["stored_frames"] == 163
    # The blink sits where true timing puts it: source frame 95 is loop frame 95 - first (a loop cut
    # by stored-frame index would start 53 frames later, past the blink).
    first = sidecar["plan"]["first"]
    apexes = [e.apex for e in analyze_video(out, use_cache=False).events]
    assert any(abs(a - (95 - first)) <= 2 for a in apexes), (first, apexes)
