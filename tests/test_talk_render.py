"""`navtalk-loop speak`: the rendered talking clip is in sync, loops the idle clip, and fails clearly."""

from __future__ import annotations

import json
import math
import subprocess

import numpy as np
import pytest

from navtalk_desktop.cli.main import main
from navtalk_desktop.core import ffmpeg
from navtalk_desktop.core.animator import AnimationSpec, render_face_video
from navtalk_desktop.core.cancel import CancelToken
from navtalk_desktop.core.errors import CancelledError, InputError
from navtalk_desktop.core.landmarks import compute_landmarks, load_or_compute_landmarks
from navtalk_desktop.core.media import probe
from navtalk_desktop.core.resources import sample_portrait
from navtalk_desktop.core.speech.audio import decode_audio, rms_series
from navtalk_desktop.core.speech.utterance import prepare_utterance
from navtalk_desktop.core.talk_render import TAIL_S, render_talk_video

TEXT = "Hello, my name is Bob. I am a talking face, and papa made a big map of the moon."


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("talk")
    mp = pytest.MonkeyPatch()
    mp.setenv("NAVTALK_CACHE_DIR", str(folder / "cache"))
    mp.setenv("NAVTALK_OFFLINE", "1")
    yield folder
    mp.undo()


@pytest.fixture(scope="module")
def loop_video(workdir):
    path = workdir / "loop.mp4"
    render_face_video(sample_portrait(), path, AnimationSpec(width=320, height=320, fps=25, duration=2.0))
    return path


@pytest.fixture(scope="module")
def talk(workdir, loop_video):
    out, cues = workdir / "talk.mp4", workdir / "cues.json"
    code = main(["speak", str(loop_video), TEXT, "--engine", "espeak", "--out", str(out), "--cues", str(cues)])
    assert code == 0
    return out, cues


def test_talk_clip_has_the_loop_frames_audio_and_length(talk, loop_video):
    out, cues = talk
    info, loop_info = probe(out), probe(loop_video)
    doc = json.loads(cues.read_text())
    duration = doc["audio"]["duration"]
    assert info.has_audio and info.fps == loop_info.fps and (info.width, info.height) == (320, 320)
    assert info.frame_count == math.ceil((duration + TAIL_S) * 25)
    assert info.frame_count > 2 * loop_info.frame_count  # the loop repeated to cover the speech
    audio, rate = decode_audio(out, codec="aac", fmt="mp4")
    assert abs(len(audio) / rate - duration) < 0.1
    assert (cues.parent / doc["audio"]["file"]).exists()


def test_mouth_in_the_output_follows_the_audio_within_40ms(talk):
    out, _ = talk
    track = compute_landmarks(out)  # real MediaPipe on the rendered frames
    assert track.face_present.all()
    p = track.points
    opening = np.linalg.norm(p[:, 13] - p[:, 14], axis=1) / np.linalg.norm(p[:, 61] - p[:, 291], axis=1)
    assert opening.max() - opening.min() > 0.2  # the mouth really moves
    audio, rate = decode_audio(out, codec="aac", fmt="mp4")
    envelope = rms_series(audio, rate, hop=0.005, window=0.04)
    frame_times = np.arange(len(opening)) / track.fps
    grid = np.arange(0.0, min(frame_times[-1], len(audio) / rate), 0.005)
    mouth = np.interp(grid, frame_times, opening)
    lags = np.round(np.arange(-0.2, 0.2001, 0.005), 3)
    corr = np.array([np.corrcoef(mouth, envelope.at(grid + lag))[0, 1] for lag in lags])
    best = lags[np.argmax(corr)]
    assert abs(best) <= 0.040, f"mouth/audio lag {best * 1000:.0f} ms"
    assert corr.max() > 0.35
    assert corr.max() - max(corr[0], corr[-1]) > 0.3  # a real peak, not a flat relation


def test_the_loop_repeats_under_the_speech(talk, loop_video):
    out, _ = talk
    n_loop = probe(loop_video).frame_count
    track = load_or_compute_landmarks(out)
    nose = track.points[:, 1]  # nose tip follows the loop's head motion; the mouth does not move it
    for i in range(0, n_loop, 7):
        assert np.linalg.norm(nose[i] - nose[i + n_loop]) < 1.0
    assert np.ptp(nose[:n_loop, 0]) + np.ptp(nose[:n_loop, 1]) > 1.0  # ...which does move


def test_cancel_leaves_no_output(workdir, loop_video):
    out = workdir / "cancelled.mp4"
    utterance = prepare_utterance("A short line to cancel.", "espeak")
    token = CancelToken()

    def progress(fraction):
        if fraction > 0.2:
            token.cancel()

    with pytest.raises(CancelledError):
        render_talk_video(loop_video, utterance, out, on_progress=progress, cancel=token)
    assert not out.exists() and not list(workdir.glob(".cancelled*"))


def test_faceless_loop_is_refused(workdir):
    blank = workdir / "blank.mp4"
    subprocess.run([ffmpeg.ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                    "color=c=gray:s=128x128:d=1:r=25", "-pix_fmt", "yuv420p", str(blank)], check=True)
    with pytest.raises(InputError, match="no face"):
        render_talk_video(blank, prepare_utterance("Hi.", "espeak"), workdir / "never.mp4")
    assert not (workdir / "never.mp4").exists()


def test_cli_errors_are_specific(workdir, loop_video, capsys):
    assert main(["speak", str(loop_video), "Hello", "--engine", "espeak"]) == 1
    assert "nothing to write" in capsys.readouterr().err
    assert main(["speak", str(workdir / "missing.mp4"), "Hello", "--engine", "espeak", "--out",
                 str(workdir / "x.mp4")]) == 1
    assert "file not found" in capsys.readouterr().err
    assert main(["speak", str(loop_video), "   ", "--engine", "espeak", "--out", str(workdir / "x.mp4")]) == 1
    assert "no text" in capsys.readouterr().err
    assert main(["speak", str(loop_video), "Hello", "--engine", "espeak", "--out", str(loop_video)]) == 1
    assert "overwrite" in capsys.readouterr().err


def test_cli_lists_voices(capsys):
    assert main(["voices", "--engine", "espeak", "--lang", "en-gb"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines and all("en-gb" in line for line in lines)
    assert main(["voices", "--engine", "edge"]) == 0
    assert "en-US-AriaNeural" in capsys.readouterr().out


def test_cli_speaks_with_a_user_patch_library(workdir, loop_video, capsys):
    """`speak --patches DIR`: the user's PNG mouths replace the generated mouth in the rendered clip."""
    import cv2

    from navtalk_desktop.core.media import read_frames

    folder = workdir / "patches"
    folder.mkdir(exist_ok=True)
    for name, colour, half_height in (("sil", (200, 60, 60), 3), ("aa", (0, 0, 255), 30), ("pbm", (0, 255, 0), 4)):
        rgba = np.zeros((160, 256, 4), np.uint8)
        cv2.ellipse(rgba, (128, 80), (64, half_height), 0, 0, 360, (*colour, 255), -1)
        cv2.imwrite(str(folder / f"{name}.png"), cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
    out = workdir / "patched.mp4"
    assert main(["speak", str(loop_video), "Papa made a map.", "--engine", "espeak", "--out", str(out),
                 "--patches", str(folder)]) == 0
    frames = read_frames(out)
    blue = [int(((f[..., 2] > 180) & (f[..., 0] < 80) & (f[..., 1] < 80)).sum()) for f in frames]
    green = [int(((f[..., 1] > 180) & (f[..., 0] < 80) & (f[..., 2] < 80)).sum()) for f in frames]
    assert max(blue) > 100 and max(green) > 30  # the open and the closed patch both show up...
    assert blue[-1] == 0 and green[-1] == 0  # ...and the clip ends on the loop's own mouth
    capsys.readouterr()
    bad = workdir / "bad_patches"
    bad.mkdir(exist_ok=True)
    assert main(["speak", str(loop_video), "Hi.", "--engine", "espeak", "--out", str(workdir / "never.mp4"),
                 "--patches", str(bad)]) == 1
    assert "sil.png" in capsys.readouterr().err and not (workdir / "never.mp4").exists()


def test_cli_warns_when_the_idle_clip_talks(workdir, fixtures_dir, capsys):
    out = workdir / "talking_source.mp4"
    code = main(["speak", str(fixtures_dir / "liveportrait_d12.mp4"), "Hi.", "--engine", "espeak", "--out", str(out)])
    assert code == 0 and out.exists()
    err = capsys.readouterr().err
    assert "idle clip talks" in err and "quietest window" in err


def test_a_quiet_loop_gets_no_talking_warning(talk, capsys):
    from navtalk_desktop.core.landmarks import load_or_compute_landmarks
    from navtalk_desktop.core.mouth.source_mouth import source_mouth

    out, _ = talk
    track = load_or_compute_landmarks(out.parent / "loop.mp4")
    assert source_mouth(track.points, track.fps).warning(track.fps) is None


def test_an_odd_sized_loop_is_rendered_through_rgb(workdir, loop_video):
    """No 4:2:0 chroma for an odd size: the frames travel as RGB and are encoded 4:4:4, mouth drawn."""
    from navtalk_desktop.core.media import read_frames

    odd = workdir / "odd.mp4"
    subprocess.run([ffmpeg.ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(loop_video),
                    "-vf", "format=yuv444p,pad=321:320:0:0", "-c:v", "libx264", "-crf", "12", "-pix_fmt", "yuv444p", str(odd)],
                   check=True)
    out = workdir / "odd_talk.mp4"
    result = render_talk_video(odd, prepare_utterance("Papa made a map.", "espeak"), out)
    info = probe(out)
    assert (info.width, info.height) == (321, 320) and result.frame_count == info.frame_count
    talk, loop = read_frames(out), read_frames(odd)
    n = len(loop)
    change = [float(np.abs(talk[i].astype(int) - loop[i % n]).max()) for i in range(len(talk))]
    assert max(change) > 60  # the mouth was drawn on some frames


def test_an_encoder_failure_is_reported_and_leaves_nothing(workdir, loop_video, monkeypatch):
    """The encoder dies while frames are still coming (here: a preset x264 does not know): the writer
    thread's broken pipe surfaces as a clear FFmpegError, no output is left and no writer thread lives on."""
    import threading

    from navtalk_desktop.core import talk_render
    from navtalk_desktop.core.errors import FFmpegError

    from navtalk_desktop.core.talk_frames import I420Painter

    monkeypatch.setattr(talk_render, "X264_SPEED", ("-preset", "no-such-preset"))
    painted = []
    paint = I420Painter.paint
    monkeypatch.setattr(I420Painter, "paint", lambda self, *a: painted.append(1) or paint(self, *a))
    out = workdir / "broken.mp4"
    utterance = prepare_utterance("Papa made a big map of the moon, and a map of the sea.", "espeak")
    with pytest.raises(FFmpegError, match="encoding the talking clip failed"):
        render_talk_video(loop_video, utterance, out)
    assert len(painted) < 0.5 * (utterance.duration + TAIL_S) * 25  # stopped soon, not drawn to the end
    assert not out.exists() and not list(workdir.glob(".broken*"))
    threading.Event().wait(0.5)
    assert not [t for t in threading.enumerate() if t.name == "talk-frame-writer"]
