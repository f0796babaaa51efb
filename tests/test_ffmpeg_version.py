"""Which ffmpeg runs decides the export's seam-report path; its version is asked once per binary."""

from __future__ import annotations

import stat

import pytest

from navtalk_desktop.core import ffmpeg


def _fake_ffmpeg(path, version: str, calls):
    path.write_text(f"#!/bin/sh\necho run >> {calls}\necho 'ffmpeg version {version} Copyright (c) the FFmpeg developers'\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    monkeypatch.setenv("NAVTALK_CACHE_DIR", str(tmp_path / "cache"))
    for f in (ffmpeg.ffmpeg_exe, ffmpeg.version_line, ffmpeg.has_loopback_decoder):
        f.cache_clear()
    yield
    for f in (ffmpeg.ffmpeg_exe, ffmpeg.version_line, ffmpeg.has_loopback_decoder):
        f.cache_clear()


def test_the_version_is_asked_once_per_binary_and_an_old_one_has_no_loopback_decoder(fresh, monkeypatch, tmp_path):
    exe, calls = tmp_path / "ffmpeg", tmp_path / "calls"
    monkeypatch.setenv("NAVTALK_FFMPEG", str(exe))
    _fake_ffmpeg(exe, "6.1.2", calls)
    assert ffmpeg.has_loopback_decoder() is False
    ffmpeg.version_line.cache_clear(), ffmpeg.has_loopback_decoder.cache_clear()  # a new process
    assert ffmpeg.has_loopback_decoder() is False
    assert calls.read_text().count("run") == 1  # the second process read the cache folder
    _fake_ffmpeg(exe, "n7.1.1-3-gabc", calls)  # replaced by a newer build: asked again
    ffmpeg.version_line.cache_clear(), ffmpeg.has_loopback_decoder.cache_clear()
    assert ffmpeg.has_loopback_decoder() is True
    assert calls.read_text().count("run") == 2


def test_the_bundled_ffmpeg_decodes_its_own_output(fresh):
    """imageio-ffmpeg's build (the one every export here uses) is new enough for the loopback decoder."""
    assert ffmpeg.version_line().startswith("ffmpeg version")
    assert ffmpeg.has_loopback_decoder() is True


def test_the_bundled_binary_is_checked_once_not_in_every_process(fresh, monkeypatch):
    """imageio-ffmpeg runs `ffmpeg -version` to check its binary in every process; the first process here
    remembers that it ran (the version store), so later ones start ffmpeg without asking."""
    import subprocess

    monkeypatch.delenv("NAVTALK_FFMPEG", raising=False)
    monkeypatch.delenv("IMAGEIO_FFMPEG_EXE", raising=False)
    asked = []
    for name in ("run", "check_call"):
        real = getattr(subprocess, name)

        def counting(cmd, *a, _real=real, **k):
            if "-version" in list(cmd):
                asked.append(cmd[0])
            return _real(cmd, *a, **k)

        monkeypatch.setattr(subprocess, name, counting)
    import imageio_ffmpeg

    bundled = imageio_ffmpeg.get_ffmpeg_exe()  # imageio-ffmpeg's own lookup (it asks once itself)
    imageio_ffmpeg._utils._get_ffmpeg_exe.cache_clear()
    asked.clear()
    assert ffmpeg.ffmpeg_exe() == bundled
    assert asked  # the first process asks
    first = len(asked)
    for _ in range(2):  # later processes
        for f in (ffmpeg.ffmpeg_exe, ffmpeg.version_line, ffmpeg.has_loopback_decoder):
            f.cache_clear()
        imageio_ffmpeg._utils._get_ffmpeg_exe.cache_clear()
        assert ffmpeg.ffmpeg_exe() == bundled
        assert ffmpeg.version_line().startswith("ffmpeg version") and ffmpeg.has_loopback_decoder()
    assert len(asked) == first
