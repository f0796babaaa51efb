"""Shared test setup: private data/cache folders, and face videos made by the animator (cached per session)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

# Every test session gets its own app folders, so nothing touches the user's real data or cache.
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="navtalk-tests-"))
for _name in ("NAVTALK_DATA_DIR", "NAVTALK_CACHE_DIR", "NAVTALK_CONFIG_DIR", "NAVTALK_LOG_DIR"):
    os.environ.setdefault(_name, str(_SESSION_DIR / _name.split("_")[1].lower()))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("NAVTALK_OFFLINE", "1")  # "auto" speech must never reach for the online service in tests
os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ logging
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def annotations() -> dict:
    return json.loads((FIXTURES / "annotations.json").read_text())


@pytest.fixture(scope="session")
def face_video_factory(tmp_path_factory):
    """Render (once per session per spec) an animated face video of the sample portrait."""
    from navtalk_desktop.core.animator import AnimationSpec, render_face_video
    from navtalk_desktop.core.resources import sample_portrait

    made: dict = {}
    folder = tmp_path_factory.mktemp("faces")

    def make(**kwargs):
        spec = AnimationSpec(**kwargs)
        key = repr(spec)
        if key not in made:
            path = folder / f"face_{len(made)}.mp4"
            truth = render_face_video(sample_portrait(), path, spec)
            made[key] = (path, truth)
        return made[key]

    return make


@pytest.fixture(scope="session")
def bad_inputs(tmp_path_factory):
    """Broken inputs of every kind the CLI must refuse, with the message fragment each must produce."""
    from navtalk_desktop.core import ffmpeg
    from navtalk_desktop.core.resources import sample_portrait

    folder = tmp_path_factory.mktemp("bad")
    clip = (FIXTURES / "liveportrait_d12.mp4").read_bytes()
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "truncated.mp4").write_bytes(clip[: len(clip) // 5])
    (folder / "image.mp4").write_bytes(sample_portrait().read_bytes())
    (folder / "text.mp4").write_text("this is not a video\n")
    ffmpeg.run(["-y", "-f", "lavfi", "-i", "sine=duration=1", str(folder / "audio.mp4")])
    ffmpeg.run(["-y", "-i", str(FIXTURES / "liveportrait_d18.mp4"), "-vf", "trim=end_frame=0", "-an",
                str(folder / "zero.mp4")])
    (folder / "a_directory.mp4").mkdir()
    return {
        "missing": (folder / "missing.mp4", "not found"),
        "directory": (folder / "a_directory.mp4", "directory"),
        "empty": (folder / "empty.mp4", "empty"),
        "truncated": (folder / "truncated.mp4", "truncated"),
        "image": (folder / "image.mp4", "still image"),
        "text": (folder / "text.mp4", "not a video file"),
        "audio": (folder / "audio.mp4", "no video stream"),
        "zero": (folder / "zero.mp4", "no (video )?frames|no streams"),
    }
