"""A spoken sentence rendered on the sample portrait's loop and on both fixture clips' loops, judged from
the rendered frames by Face Mesh (measure.talk_report), not from the renderer's own numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from navtalk_desktop.core.animator import AnimationSpec, render_face_video
from navtalk_desktop.core.mouth import measure
from navtalk_desktop.core.resources import sample_portrait
from navtalk_desktop.core.speech.utterance import prepare_utterance

FIXTURES = Path(__file__).parent / "fixtures"

TEXT = "Hello, my name is Bob. I am a talking face, and papa made a big map of the moon."


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mouth-speech")
    mp = pytest.MonkeyPatch()
    mp.setenv("NAVTALK_CACHE_DIR", str(folder / "cache"))
    mp.setenv("NAVTALK_OFFLINE", "1")
    yield folder
    mp.undo()


@pytest.fixture(scope="module")
def utterance(work):
    return prepare_utterance(TEXT, "espeak")


@pytest.fixture(scope="module", params=["portrait", "liveportrait_d12.mp4", "liveportrait_d18.mp4"])
def report(request, work, utterance):
    loop = work / f"loop_{request.param}.mp4"
    if request.param == "portrait":
        render_face_video(sample_portrait(), loop, AnimationSpec(width=512, height=512, fps=25, duration=2.0))
    else:
        measure.quiet_loop(FIXTURES / request.param, loop)
    return request.param, measure.talk_report(loop, utterance, work / f"talk_{request.param}.mp4")


def test_the_chin_drops_with_the_mouth(report):
    name, r = report
    assert r.chin_corr >= 0.6, (name, r)
    assert 0.3 <= r.chin_travel <= 0.9, (name, r)


def test_the_lips_keep_their_colour(report):
    name, r = report
    assert r.lip_delta_e <= 8.0, (name, r)


def test_face_mesh_reads_the_commanded_opening(report):
    name, r = report
    assert r.command_corr >= 0.9, (name, r)


def test_pbm_closures_meet_the_audio_silences(report):
    name, r = report
    assert len(r.closure_offsets_ms) >= 2, (name, r)
    assert np.all(r.closure_offsets_ms <= 25.0), (name, r.closure_offsets_ms)


def test_fixture_clips_are_flagged_as_talking_and_their_quiet_window_is_quieter(work):
    from navtalk_desktop.core.landmarks import load_or_compute_landmarks

    for name in ("liveportrait_d12.mp4", "liveportrait_d18.mp4"):
        track = load_or_compute_landmarks(FIXTURES / name)
        whole = measure.source_mouth(track.points, track.fps)
        assert whole.talks and "talks" in whole.warning(track.fps)
        window = whole.openings[whole.quiet_start:whole.quiet_start + whole.quiet_frames]
        assert np.nanmax(window) - np.nanmin(window) < whole.spread
