"""Blink detection with real MediaPipe: on real annotated clips and on animator videos with known truth."""

import numpy as np
import pytest

from navtalk_desktop.core.analysis import analyze_video
from navtalk_desktop.core.blinks import detect_blinks, fill_short_gaps


@pytest.mark.parametrize("name", ["liveportrait_d18.mp4", "liveportrait_d12.mp4"])
def test_real_clips_match_annotations(name, fixtures_dir, annotations):
    truth = annotations[name]
    result = analyze_video(fixtures_dir / name)
    apexes = [e.apex for e in result.events]
    for blink in truth["blinks"]:
        assert any(abs(a - blink["apex"]) <= 2 for a in apexes), f"missed blink at {blink['apex']}: {apexes}"
    dont_care = truth.get("ambiguous", [])
    for event in result.events:
        annotated = any(abs(event.apex - b["apex"]) <= 2 for b in truth["blinks"])
        ambiguous = any(a["start"] - 2 <= event.apex <= a["end"] + 2 for a in dont_care)
        assert annotated or ambiguous, f"false blink at frame {event.apex}"
    assert result.face_fraction == 1.0
    assert result.best_blink() is not None


@pytest.mark.parametrize(
    "width,height,fps",
    [(None, None, 24), (None, None, 25), (None, None, 30), (720, 1280, 30), (1280, 720, 25), (361, 481, 25)],
)
def test_animated_blinks_found_within_one_frame(face_video_factory, width, height, fps):
    path, truth = face_video_factory(width=width, height=height, fps=fps, duration=4.0, blink_times=(1.0, 2.8))
    result = analyze_video(path)
    apexes = [e.apex for e in result.events]
    assert len(result.events) == len(truth.apex_frames), apexes
    for expected in truth.apex_frames:
        assert any(abs(a - expected) <= 1 for a in apexes), (expected, apexes)
    assert all(e.kind == "blink" and e.both_eyes for e in result.events)
    if width:
        assert (result.info.width, result.info.height) == (width, height)


def test_no_blink_video_has_no_events(face_video_factory):
    path, truth = face_video_factory(fps=25, duration=3.0, blink_times=())
    result = analyze_video(path)
    assert truth.apex_frames == []
    assert result.events == []
    assert "never blinks" in result.summary() or "never blinks" in " ".join(result.messages)
    assert result.best_blink() is None


def test_second_analysis_uses_landmark_cache(face_video_factory, monkeypatch):
    from navtalk_desktop.core import landmarks

    path, _ = face_video_factory(fps=25, duration=3.0, blink_times=(1.2,))
    first = analyze_video(path)

    def must_not_run(*args, **kwargs):
        raise AssertionError("landmarks were recomputed instead of read from the cache")

    monkeypatch.setattr(landmarks, "compute_landmarks", must_not_run)
    second = analyze_video(path)
    assert np.array_equal(first.track.points, second.track.points, equal_nan=True)
    assert [e.apex for e in first.events] == [e.apex for e in second.events]


def test_face_gap_flags_event_and_lost_face_is_reported():
    fps = 25.0
    n = 150
    right = np.full(n, 0.30)
    right[60:63] = [0.15, 0.05, 0.15]
    right[100:140] = np.nan  # the face is gone for 1.6 s
    right[98:100] = [0.2, 0.1]  # a dip running into the gap
    left = right.copy()
    events, _ = detect_blinks(right, left, fps)
    clean = [e for e in events if not e.truncated]
    assert [e.apex for e in clean] == [61]
    assert any(e.touches_gap for e in events if e.apex >= 95)


def test_short_gaps_are_interpolated_long_ones_kept():
    curve = np.array([1.0, np.nan, np.nan, 4.0, np.nan, np.nan, np.nan, np.nan, 9.0])
    filled = fill_short_gaps(curve, 2)
    assert filled[1:3].tolist() == [2.0, 3.0]
    assert np.isnan(filled[4:8]).all()


def test_no_face_at_all_is_a_clear_outcome(tmp_path):
    from navtalk_desktop.core import ffmpeg

    path = tmp_path / "noface.mp4"
    ffmpeg.run(["-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=2", "-pix_fmt", "yuv420p",
                str(path)])
    result = analyze_video(path)
    assert result.face_fraction == 0.0
    assert result.events == []
    assert "no face" in result.summary()


def test_face_lost_for_a_long_stretch_is_reported_not_fatal(face_video_factory, tmp_path):
    from navtalk_desktop.core import ffmpeg

    source, truth = face_video_factory(fps=25, duration=6.0, blink_times=(1.6, 4.2))
    hidden = tmp_path / "hidden.mp4"
    # Frames 60-99 (2.4-4.0 s) show no face at all: a grey card covers the frame.
    ffmpeg.run(["-y", "-i", str(source), "-vf", "drawbox=x=0:y=0:w=iw:h=ih:color=gray:t=fill:enable='between(n,60,99)'",
                "-c:v", "libx264", "-crf", "18", str(hidden)])
    result = analyze_video(hidden)
    assert 0.7 < result.face_fraction < 0.8
    assert any("missing" in m for m in result.messages)
    apexes = [e.apex for e in result.events if not e.touches_gap]
    assert any(abs(a - truth.apex_frames[0]) <= 1 for a in apexes)
    assert any(abs(a - truth.apex_frames[1]) <= 1 for a in apexes)
    assert not any(60 <= e.apex <= 99 for e in result.events)


def test_an_event_that_is_no_loop_point_says_why():
    """What `analyze` prints beside each event and `export` says when it refuses: the reason, not a bare no."""
    from dataclasses import replace

    from navtalk_desktop.core.blinks import BlinkEvent

    fps, n = 25.0, 250
    good = BlinkEvent(100, 103, 106, depth=0.8, confidence=0.9, kind="blink", touches_edge=False,
                      touches_gap=False, both_eyes=True)
    assert good.why_not_clean(n, fps) == "" and good.is_clean(n, fps)
    cases = {
        "lasts 0.52 s, longer than a blink (0.5 s)": replace(good, kind="long_closure", end=112),
        "0.44 s from the clip's end": replace(good, start=234, apex=238, end=242),
        "0.20 s from the clip's start": replace(good, start=2, apex=5, end=8),
        "too shallow (depth 0.30": replace(good, depth=0.3),
        "one eye only (left)": replace(good, both_eyes=False, eye="left"),
        "cut by the clip's edge": replace(good, touches_edge=True),
        "the face is lost during it": replace(good, touches_gap=True),
        "marked never to loop through": replace(good, exclude=True),
    }
    for said, event in cases.items():
        why = event.why_not_clean(n, fps)
        assert said in why, (said, why)
        assert not event.is_clean(n, fps)
    assert replace(good, depth=0.3, origin="edited").is_clean(n, fps)  # the user's word on depth
