"""Table-driven bad input, as a hostile user types it: every case gets a clear message and leaves no trace.

Each CLI case asserts four things: the exit code, a message naming the problem, no traceback, and no file
written or changed (names, sizes, mtimes and hashes of the work folder and the bad-inputs folder, hidden
partials included). Studio cases open the file in the real window: a message, no crash, nothing written.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
CLIP = FIXTURES / "liveportrait_d18.mp4"
# speak must check its files before it touches a speech engine: with this engine name, reaching the engine
# fails with "unknown speech engine", so a file message proves the order.
NO_ENGINE = {"NAVTALK_TTS_ENGINE": "no-such-engine"}

# (id, arguments, exit code, message pattern, extra environment). {V} is a good clip in the work folder,
# {hard}/{sym} a hard link/symlink to it, {S} a video named like S.mp4's sidecar, {wav} a video named L.wav,
# {bad:NAME} a bad_inputs file,
# {w} the work folder. Paths without a folder are relative to the work folder (the CLI's cwd).
ARGPARSE = 2
# The full message for each bad_inputs file (the fixture's fragments, e.g. "empty", also match the file names).
BAD_FILE_MESSAGES = {
    "missing": r"file not found: .*missing\.mp4",
    "directory": r"expected a video file but got a directory: .*a_directory\.mp4",
    "empty": r"the file is empty \(0 bytes\): ",
    "truncated": r"the MP4 file is truncated or damaged \(its index is missing\): ",
    "image": r"this is a still image \(png\), not a video: ",
    "text": r"not a video file \(ffmpeg does not recognise its content\): ",
    "audio": r"the file has audio but no video stream: ",
    "zero": r"the file holds no streams \(no video frames\): ",
}
CASES = [
    # analyze
    *[(f"analyze-{name}", ["analyze", f"{{bad:{name}}}"], 1, None, None)
      for name in ("missing", "directory", "empty", "truncated", "image", "text", "audio", "zero")],
    ("analyze-json-onto-source", ["analyze", "{V}", "--json", "-o", "{V}"], 1,
     r"the output .*V\.mp4 is the input file .*V\.mp4; writing it would overwrite the input, so choose another output name", None),
    ("analyze-csv-onto-hard-link", ["analyze", "{V}", "--csv", "-o", "{hard}"], 1,
     r"the output .*hard\.mp4 is the input file .*\(the same file under another name\)", None),
    ("analyze-onto-symlink", ["analyze", "{V}", "-o", "{sym}"], 1, r"is the input file .*\(the same file under another name\)", None),
    ("analyze-onto-source-relative", ["analyze", "V.mp4", "-o", "./V.mp4"], 1, r"is the input file", None),
    ("analyze-output-folder-missing", ["analyze", "{V}", "-o", "nowhere/a.json"], 1, r"output folder does not exist", None),
    ("analyze-output-is-directory", ["analyze", "{V}", "--json", "-o", "{w}"], 1, r"output path is a directory", None),
    ("analyze-json-and-csv", ["analyze", "{V}", "--json", "--csv"], ARGPARSE, r"not allowed with argument", None),
    # export: inputs
    *[(f"export-{name}", ["export", f"{{bad:{name}}}", "--out", "loop.mp4"], 1, None, None)
      for name in ("missing", "directory", "empty", "truncated", "image", "text", "audio", "zero")],
    # export: output is the input
    ("export-onto-source", ["export", "{V}", "--out", "{V}"], 1, r"the output .*V\.mp4 is the input file", None),
    ("export-onto-hard-link", ["export", "{V}", "--out", "{hard}"], 1, r"hard\.mp4 is the input file .*V\.mp4 \(the same file under another name\)", None),
    ("export-symlink-onto-target", ["export", "{sym}", "--out", "{V}"], 1, r"is the input file .*sym\.mp4 \(the same file under another name\)", None),
    ("export-sidecar-onto-source", ["export", "{S}", "--out", "S.mp4"], 1,
     r"the sidecar .*S\.mp4\.json is the input file .*S\.mp4\.json;", None),
    ("export-onto-the-sources-sidecar", ["export", "{T}", "--out", "T.mp4.json", "--format", "mp4"], 1,
     r"the output .*T\.mp4\.json is the sidecar of the input .*T\.mp4\.json; writing it would overwrite the "
     r"input's sidecar", None),
    # export: numbers
    ("export-at-nan", ["export", "{V}", "--out", "loop.mp4", "--at", "nan"], ARGPARSE,
     r"argument --at: 'nan' is not a number; give seconds", None),
    ("export-at-inf", ["export", "{V}", "--out", "loop.mp4", "--at", "inf"], ARGPARSE,
     r"argument --at: 'inf' is not a usable number of seconds", None),
    ("export-at-negative", ["export", "{V}", "--out", "loop.mp4", "--at", "-2"], ARGPARSE,
     r"argument --at: must be 0 seconds or more \(got -2\)", None),
    ("export-at-past-the-end", ["export", "{V}", "--out", "loop.mp4", "--at", "999"], 1,
     r"the loop point \(frame \d+\) is outside the video \(frames 0-215\)", None),
    ("export-at-just-past-the-end", ["export", "{V}", "--out", "loop.mp4", "--at", "7.2"], 1,
     r"the loop point \(frame 216\) is outside the video \(frames 0-215\)", None),
    ("export-duration-inf", ["export", "{V}", "--out", "loop.mp4", "--duration", "inf"], ARGPARSE,
     r"argument --duration: 'inf' is not a usable number of seconds", None),
    ("export-duration-nan", ["export", "{V}", "--out", "loop.mp4", "--duration", "nan"], ARGPARSE,
     r"argument --duration: 'nan' is not a number", None),
    ("export-duration-huge", ["export", "{V}", "--out", "loop.mp4", "--duration", "1e308"], ARGPARSE,
     r"argument --duration: '1e308' is not a usable number of seconds; give at most 86400", None),
    ("export-duration-negative", ["export", "{V}", "--out", "loop.mp4", "--duration", "-4"], ARGPARSE,
     r"argument --duration: must be more than 0 seconds \(got -4\)", None),
    ("export-duration-zero", ["export", "{V}", "--out", "loop.mp4", "--duration", "0"], ARGPARSE,
     r"argument --duration: must be more than 0 seconds \(got 0\)", None),
    ("export-duration-one-frame", ["export", "{V}", "--out", "loop.mp4", "--duration", "0.04", "--frame", "50"], 1,
     r"a 0\.04 s loop is only 1 frame\(s\) at 30 fps; a loop needs at least 4 frames", None),
    ("export-duration-longer-than-video", ["export", "{V}", "--out", "loop.mp4", "--duration", "60", "--frame", "50"], 1,
     r"the video is too short for a 60 s loop", None),
    ("export-frame-too-near-the-end", ["export", "{V}", "--out", "loop.mp4", "--frame", "212", "--strategy", "morph"],
     1, r"no 4 s loop around frame 212 fits inside the video \(frames 0-215, .*\): the frame is too near an end", None),
    ("export-duration-text", ["export", "{V}", "--out", "loop.mp4", "--duration", "four"], ARGPARSE,
     r"argument --duration: 'four' is not a number of seconds", None),
    ("export-frame-negative", ["export", "{V}", "--out", "loop.mp4", "--frame", "-3"], ARGPARSE,
     r"argument --frame: frame numbers start at 0 \(got -3\)", None),
    ("export-frame-nan", ["export", "{V}", "--out", "loop.mp4", "--frame", "nan"], ARGPARSE,
     r"argument --frame: 'nan' is not a frame number", None),
    ("export-at-and-frame", ["export", "{V}", "--out", "loop.mp4", "--at", "1", "--frame", "3"], ARGPARSE,
     r"not allowed with argument", None),
    ("export-before-negative", ["export", "{V}", "--out", "loop.mp4", "--before", "-1"], ARGPARSE,
     r"argument --before: must be 0 seconds or more \(got -1\)", None),
    ("export-after-minus-inf", ["export", "{V}", "--out", "loop.mp4", "--after=-inf"], ARGPARSE,
     r"argument --after: '-inf' is not a usable number of seconds", None),
    ("export-crossfade-negative", ["export", "{V}", "--out", "loop.mp4", "--crossfade", "-0.5"], ARGPARSE,
     r"argument --crossfade: must be 0 seconds or more \(got -0\.5\)", None),
    ("export-crossfade-nan", ["export", "{V}", "--out", "loop.mp4", "--crossfade", "nan"], ARGPARSE,
     r"argument --crossfade: 'nan' is not a number", None),
    # export: outputs
    ("export-unknown-format", ["export", "{V}", "--out", "loop.avi"], 1, r"cannot tell the format from 'loop\.avi'", None),
    ("export-output-folder-missing", ["export", "{V}", "--out", "nowhere/loop.mp4"], 1,
     r"output folder does not exist: nowhere", None),
    ("export-output-is-directory", ["export", "{V}", "--out", "{w}"], 1, r"output path is a directory", None),
    # inspect
    *[(f"inspect-{name}", ["inspect", f"{{bad:{name}}}", "--json"], 1, None, None)
      for name in ("missing", "empty", "text", "audio", "image")],
    # speak: every file problem is found before any speech engine is touched
    ("speak-loop-missing", ["speak", "{bad:missing}", "hello", "--out", "talk.mp4"], 1, r"file not found", NO_ENGINE),
    ("speak-loop-not-a-video", ["speak", "{bad:text}", "hello", "--out", "talk.mp4"], 1, r"not a video file", NO_ENGINE),
    ("speak-loop-empty", ["speak", "{bad:empty}", "hello", "--out", "talk.mp4"], 1, r"the file is empty", NO_ENGINE),
    ("speak-loop-audio-only", ["speak", "{bad:audio}", "hello", "--out", "talk.mp4"], 1, r"no video stream", NO_ENGINE),
    ("speak-out-onto-loop", ["speak", "{V}", "hello", "--out", "{V}"], 1, r"the output .*V\.mp4 is the input file", NO_ENGINE),
    ("speak-out-onto-hard-link", ["speak", "{V}", "hello", "--out", "{hard}"], 1, r"is the input file .*\(the same file under another name\)", NO_ENGINE),
    ("speak-cues-onto-loop", ["speak", "{V}", "hello", "--cues", "{V}"], 1, r"the cues file .*V\.mp4 is the input file",
     NO_ENGINE),
    ("speak-cues-audio-onto-loop", ["speak", "{wav}", "hello", "--cues", "L.json"], 1,
     r"the cues audio .*L\.wav is the input file .*L\.wav", NO_ENGINE),
    ("speak-cues-onto-out", ["speak", "{V}", "hello", "--out", "talk.mp4", "--cues", "talk.mp4"], 1,
     r"the cues file talk\.mp4 is also the --out file; give them different names", NO_ENGINE),
    ("speak-out-folder-missing", ["speak", "{V}", "hello", "--out", "nowhere/talk.mp4"], 1,
     r"output folder does not exist", NO_ENGINE),
    ("speak-patches-missing", ["speak", "{V}", "hello", "--out", "talk.mp4", "--patches", "nowhere"], 1,
     r"mouth patch folder not found: nowhere", NO_ENGINE),
    ("speak-crf-99", ["speak", "{V}", "hello", "--out", "talk.mp4", "--crf", "99"], ARGPARSE,
     r"argument --crf: H\.264 CRF must be between 0 \(lossless\) and 51 \(worst\); got 99", NO_ENGINE),
    ("speak-crf-negative", ["speak", "{V}", "hello", "--out", "talk.mp4", "--crf", "-1"], ARGPARSE,
     r"argument --crf: H\.264 CRF must be between 0", NO_ENGINE),
    ("speak-crf-text", ["speak", "{V}", "hello", "--out", "talk.mp4", "--crf", "best"], ARGPARSE,
     r"argument --crf: 'best' is not a whole number", NO_ENGINE),
    ("speak-nothing-to-write", ["speak", "{V}", "hello"], 1, r"nothing to write: give --out", NO_ENGINE),
    ("speak-empty-text", ["speak", "{V}", "  ", "--out", "talk.mp4"], 1, r"there is no text to speak", NO_ENGINE),
]


def snapshot(*folders: Path) -> dict:
    """Names, sizes, mtimes and hashes of everything under `folders` (links not followed)."""
    state = {}
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            for name in sorted(dirs + files):
                path = Path(root) / name
                st = path.lstat()
                digest = None
                if path.is_file() and not path.is_symlink():
                    digest = hashlib.sha256(path.read_bytes()).hexdigest()
                state[str(path)] = (st.st_size, st.st_mtime_ns, digest)
    return state


@pytest.fixture
def work(tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    shutil.copyfile(CLIP, folder / "V.mp4")
    os.link(folder / "V.mp4", folder / "hard.mp4")
    os.symlink("V.mp4", folder / "sym.mp4")
    shutil.copyfile(CLIP, folder / "S.mp4.json")
    shutil.copyfile(CLIP, folder / "L.wav")  # a loop whose name is the one `--cues L.json` gives its audio
    shutil.copyfile(CLIP, folder / "T.mp4")  # a loop with its sidecar beside it
    (folder / "T.mp4.json").write_text('{"plan": {}}\n')
    return folder


def expand(arg: str, work: Path, bad: dict) -> str:
    named = {"{V}": work / "V.mp4", "{hard}": work / "hard.mp4", "{sym}": work / "sym.mp4",
             "{S}": work / "S.mp4.json", "{wav}": work / "L.wav", "{T}": work / "T.mp4", "{w}": work}
    if arg in named:
        return str(named[arg])
    match = re.fullmatch(r"\{bad:(\w+)\}", arg)
    return str(bad[match.group(1)][0]) if match else arg


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_cli_bad_input(case, work, bad_inputs):
    _id, argv, code, pattern, env_extra = case
    if pattern is None:  # a bad_inputs file: its own specific message
        name = re.fullmatch(r"\{bad:(\w+)\}", argv[1]).group(1)
        pattern = BAD_FILE_MESSAGES[name]
        assert re.search(bad_inputs[name][1], pattern.replace("\\", ""))  # agrees with the shared fixture
    bad_folder = Path(bad_inputs["empty"][0]).parent
    before = snapshot(work, bad_folder)
    env = {**os.environ, **(env_extra or {})}
    proc = subprocess.run([sys.executable, "-m", "navtalk_desktop.cli.main", *(expand(a, work, bad_inputs) for a in argv)],
                          capture_output=True, text=True, timeout=300, cwd=work, env=env)
    assert proc.returncode == code, proc.stderr
    assert re.search(pattern, proc.stderr), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "unknown speech engine" not in proc.stderr
    assert snapshot(work, bad_folder) == before


def test_there_are_enough_cases():
    commands = {c[1][0] for c in CASES}
    assert len(CASES) >= 40 and commands == {"analyze", "export", "inspect", "speak"}


# --- the studio ---------------------------------------------------------------------------------------------------

@pytest.fixture
def studio(qtbot, tmp_path_factory, monkeypatch):
    """The real studio window with private user folders (outside the snapshotted folders)."""
    from PySide6.QtCore import QThreadPool

    from navtalk_desktop.core.settings import Settings
    from navtalk_desktop.ui.main_window import MainWindow

    user = tmp_path_factory.mktemp("studio-user")
    for name in ("CONFIG", "DATA", "LOG"):
        monkeypatch.setenv(f"NAVTALK_{name}_DIR", str(user / name.lower()))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    window = MainWindow(Settings())
    window.ask_to_save = lambda: True
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.close()
    QThreadPool.globalInstance().waitForDone(30000)


def open_and_wait_for_plan(qtbot, window, path: Path) -> None:
    with qtbot.waitSignal(window.loop.plan_ready, timeout=120000):
        assert window.open_path(path)


STUDIO_MESSAGES = {  # the window's own wording where it checks before the probe
    "missing": r"File not found: .*missing\.mp4\. It may have been moved or deleted",
    "directory": r"a_directory\.mp4 is a folder; choose an image or video file inside it",
}
STUDIO_CASES = ["missing", "directory", "empty", "truncated", "image", "text", "audio", "zero"]


def _shown_error(qtbot, window) -> str:
    qtbot.waitUntil(lambda: window.message_bar.isVisible(), timeout=30000)
    assert window.message_bar.level == "error"
    return window.message_bar.text()


@pytest.mark.parametrize("name", STUDIO_CASES)
def test_studio_open_bad_file(qtbot, studio, bad_inputs, name):
    path = bad_inputs[name][0]
    pattern = STUDIO_MESSAGES.get(name, BAD_FILE_MESSAGES[name])
    folder = Path(path).parent
    before = snapshot(folder)
    studio.open_path(path)
    text = _shown_error(qtbot, studio)
    assert re.search(pattern, text), text
    assert "Something went wrong" not in text  # an expected, named problem, not a crash report
    assert studio.isVisible() and studio.document.plan is None
    assert snapshot(folder) == before


@pytest.mark.parametrize("content, pattern", [
    ("{ not json", r"is not valid JSON"),
    ('{"format": "something-else"}', r"is not a NavTalk Studio project file"),
    ('{"format": "navtalk-studio-project", "version": 999}', r"written by a newer NavTalk Studio"),
], ids=["not-json", "not-a-project", "newer-version"])
def test_studio_open_bad_project(qtbot, studio, tmp_path, content, pattern):
    from navtalk_desktop.core.project import FORMAT

    path = tmp_path / "bad.navtalk.json"
    path.write_text(content.replace("navtalk-studio-project", FORMAT))
    before = snapshot(tmp_path)
    assert studio.open_path(path) is False
    text = _shown_error(qtbot, studio)
    assert re.search(pattern, text), text
    assert snapshot(tmp_path) == before


def test_studio_refuses_to_save_the_project_over_the_video(qtbot, studio, work, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    open_and_wait_for_plan(qtbot, studio, work / "V.mp4")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(work / "V.json"), ""))
    os.symlink("V.mp4", work / "V.json")  # the chosen name points at the video
    before = snapshot(work)
    assert studio.save_project_as() is False
    text = _shown_error(qtbot, studio)
    assert "(the same file under another name)" in text and "V.mp4" in text, text
    assert snapshot(work) == before


def test_studio_export_refuses_the_source_as_output(qtbot, studio, work):
    open_and_wait_for_plan(qtbot, studio, work / "V.mp4")
    asked = []
    studio.loop.confirm_overwrite = lambda p: asked.append(p) or True
    studio.export_panel.output_edit.setText(str(work / "hard.mp4"))
    before = snapshot(work)
    assert studio.loop.export() is False
    text = _shown_error(qtbot, studio)
    assert "Cannot export there" in text and "(the same file under another name)" in text, text
    assert asked == []  # never even offered to replace it
    assert snapshot(work) == before


# --- a reader that goes away, and loop times given to the core directly ---------------------------------------------

@pytest.mark.parametrize("argv", [["analyze", "--csv"], ["analyze", "--json"], ["analyze"], ["inspect", "--json"]],
                         ids=["analyze-csv", "analyze-json", "analyze-summary", "inspect-json"])
def test_closed_stdout_is_not_a_traceback(argv, work):
    before = snapshot(work)
    # The reader is gone before we write: every write fails with EPIPE (what `| head -1` does to a long output).
    proc = subprocess.Popen([sys.executable, "-m", "navtalk_desktop.cli.main", argv[0], str(work / "V.mp4"), *argv[1:]],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=work)
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=300) == 141, err
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err, err
    assert snapshot(work) == before


def test_piping_into_head_keeps_the_first_line(work):
    proc = subprocess.run(["bash", "-o", "pipefail", "-c",
                           f"'{sys.executable}' -m navtalk_desktop.cli.main analyze --csv V.mp4 | head -1"],
                          capture_output=True, text=True, cwd=work, timeout=300)
    assert proc.stdout == "frame,time_s,ear_right,ear_left,ear_mean,openness,face,event\n"
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr


@pytest.mark.parametrize("option, value, message", [
    ("duration", float("nan"), "the loop duration must be a finite number of seconds"),
    ("duration", float("inf"), "the loop duration must be a finite number of seconds"),
    ("duration", -4.0, "the loop duration cannot be negative (got -4 s)"),
    ("duration", 0.0, "the loop duration must be more than 0 s (got 0 s)"),
    ("before", -1.0, "the loop before cannot be negative"),
    ("crossfade", -0.2, "the loop crossfade cannot be negative"),
    ("crossfade", float("nan"), "the loop crossfade must be a finite number"),
    ("duration", 1e308, "the loop duration must be a finite number of seconds"),  # finite, but not in frames
])
def test_core_plans_refuse_bad_times(option, value, message):
    """The studio and other callers reach make_plan/plan_loop without argparse: the same rules hold there."""
    from fractions import Fraction

    from navtalk_desktop.core.errors import PlanError
    from navtalk_desktop.core.loop_plan import make_plan

    kwargs = {"duration": 2.0, "before": 0.5, "crossfade": 0.3, option: value}
    for strategy in ("pingpong", "crossfade"):
        with pytest.raises(PlanError) as info:
            make_plan(strategy, Fraction(25), 200, 100, **kwargs)
        assert message in str(info.value)


def test_plan_loop_says_what_is_wrong_with_the_duration(face_video_factory):
    """Not "the video is too short for a -4 s loop": the option and its rule."""
    from navtalk_desktop.core.analysis import analyze_video
    from navtalk_desktop.core.auto_loop import plan_loop
    from navtalk_desktop.core.errors import PlanError

    source, _ = face_video_factory(fps=25, duration=3.0, blink_times=(1.5,))
    analysis = analyze_video(source)
    for duration, message in ((-4.0, "the loop duration cannot be negative (got -4 s)"),
                              (0.0, "the loop duration must be more than 0 s"),
                              (float("nan"), "the loop duration must be a finite number")):
        with pytest.raises(PlanError) as info:
            plan_loop(analysis, source, duration=duration)
        assert message in str(info.value) and "too short" not in str(info.value)


def test_studio_sweeps_stale_partials_on_close(qtbot, studio, work):
    import time

    from navtalk_desktop.core.atomic import STALE_PARTIAL_S

    stale, fresh = work / ".V_loop.k3j_x9ab.part.mp4", work / ".V_loop.abcdefgh.part.mp4"
    for path in (stale, fresh):
        path.write_bytes(b"half an mp4 of a killed export")
    old = time.time() - STALE_PARTIAL_S - 60
    os.utime(stale, (old, old))
    studio.open_path(work / "V.mp4")
    qtbot.waitUntil(lambda: studio.document.source_path is not None, timeout=30000)
    assert stale.exists()
    studio.close()
    assert not stale.exists() and fresh.exists()  # a fresh one may belong to another run still writing


@pytest.mark.parametrize("cache", ["a_file", "a_file/under_it"])
@pytest.mark.parametrize("no_cache", [False, True])
def test_a_cache_folder_that_cannot_be_made_leaves_the_analysis_working(tmp_path, cache, no_cache):
    """NAVTALK_CACHE_DIR naming a file (or a folder under one): the cache is off, the command still works."""
    (tmp_path / "a_file").write_text("not a folder")
    env = {**os.environ, "NAVTALK_CACHE_DIR": str(tmp_path / cache)}
    proc = subprocess.run([sys.executable, "-m", "navtalk_desktop.cli.main", "analyze", str(CLIP), "--json",
                           *(["--no-cache"] if no_cache else [])], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert '"events"' in proc.stdout
    assert (tmp_path / "a_file").read_text() == "not a folder"


def test_a_cache_that_cannot_be_written_leaves_the_analysis_working(tmp_path, monkeypatch, caplog):
    """A full or read-only cache folder fails the cache write (atomic_output says so as an OutputError): the
    analysis is kept and said to be uncached, not failed after all its work."""
    from navtalk_desktop.core import landmarks
    from navtalk_desktop.core.errors import OutputError

    monkeypatch.setenv("NAVTALK_CACHE_DIR", str(tmp_path / "cache"))

    def unwritable(*_a, **_k):
        raise OutputError(f"output folder is not writable: {tmp_path / 'cache'} (Read-only file system)")

    monkeypatch.setattr(landmarks, "atomic_output", unwritable)
    track = landmarks.load_or_compute_landmarks(CLIP)
    assert track.frame_count == 216 and track.face_present.all()
    assert "could not write the landmark cache" in caplog.text


def test_a_time_in_the_last_frame_is_that_frame(tmp_path):
    """--at 7.19 on a 7.2 s clip (216 frames at 30 fps) is inside its last frame, 215, not "frame 216"."""
    from navtalk_desktop.core import pipeline
    from navtalk_desktop.core.analysis import analyze_video

    analysis = analyze_video(CLIP)
    seen = {}

    def plan_loop(_analysis, _video, **kwargs):
        seen.update(kwargs)
        return "planned"

    import navtalk_desktop.core.auto_loop as auto_loop

    original = auto_loop.plan_loop
    auto_loop.plan_loop = plan_loop
    try:
        for at, frame in ((7.19, 215), (1.3, 39), (0.0, 0), (7.1, 213)):
            pipeline.choose(analysis, CLIP, pipeline.LoopRequest(loop_at_s=at))
            assert seen["loop_point"] == frame, at
    finally:
        auto_loop.plan_loop = original


@pytest.mark.parametrize("source", [5, "a string", ["a", "list"], {"path": 7}, {"path": "", "sha256": 3}])
def test_inspect_reads_a_sidecar_whose_source_is_not_what_it_should_be(tmp_path, source):
    """A hand-edited or damaged sidecar `source`: the loop is measured on its own, with a note, no traceback."""
    import json

    from navtalk_desktop.core import media
    from navtalk_desktop.core.loop_plan import make_plan

    loop = tmp_path / "L.mp4"
    shutil.copyfile(CLIP, loop)
    info = media.probe(CLIP)
    plan = make_plan("crossfade", info.fps, info.frame_count, 100, duration=3.0)
    (tmp_path / "L.mp4.json").write_text(json.dumps({"plan": plan.to_dict(), "source": source}))
    proc = subprocess.run([sys.executable, "-m", "navtalk_desktop.cli.main", "inspect", str(loop)],
                          capture_output=True, text=True, timeout=300)
    assert "Traceback" not in proc.stderr and proc.returncode == 0, proc.stderr[-2000:]
    assert "is not there (or changed)" in proc.stderr


def test_a_source_whose_content_changed_is_not_used_for_the_prediction(tmp_path):
    """The sidecar's source has the same frame count but other bytes (another clip, re-encoded): not used."""
    import json

    from navtalk_desktop.core import media
    from navtalk_desktop.core.loop_plan import make_plan

    loop, source = tmp_path / "L.mp4", tmp_path / "S.mp4"
    shutil.copyfile(CLIP, loop)
    shutil.copyfile(CLIP, source)
    info = media.probe(CLIP)
    plan = make_plan("crossfade", info.fps, info.frame_count, 100, duration=3.0)
    sidecar = {"plan": plan.to_dict(), "source": {"path": str(source), "sha256": "0" * 64}}
    (tmp_path / "L.mp4.json").write_text(json.dumps(sidecar))
    proc = subprocess.run([sys.executable, "-m", "navtalk_desktop.cli.main", "inspect", str(loop)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "is not there (or changed)" in proc.stderr, proc.stderr[-2000:]
    sidecar["source"]["sha256"] = media.content_hash(source)
    (tmp_path / "L.mp4.json").write_text(json.dumps(sidecar))
    proc = subprocess.run([sys.executable, "-m", "navtalk_desktop.cli.main", "inspect", str(loop)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "is not there (or changed)" not in proc.stderr, proc.stderr[-2000:]


def test_a_blink_list_whose_content_hash_is_not_text_is_refused_plainly(tmp_path):
    import json

    blinks = tmp_path / "b.json"
    blinks.write_text(json.dumps({"content_hash": 5, "events": []}))
    proc = subprocess.run([sys.executable, "-m", "navtalk_desktop.cli.main", "export", str(CLIP), "--out",
                           str(tmp_path / "b.mp4"), "--blinks", str(blinks)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert "content_hash must be the clip's SHA-256 as text" in proc.stderr
    assert not (tmp_path / "b.mp4").exists()


def test_a_full_disk_under_ffmpeg_is_one_plain_line(tmp_path):
    """ffmpeg's own lines about a full disk ("Error submitting a packet ... No space left on device") become
    one sentence (/dev/full: every write fails with ENOSPC)."""
    from navtalk_desktop.core import ffmpeg
    from navtalk_desktop.core.errors import FFmpegError

    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this platform")
    with pytest.raises(FFmpegError) as raised:
        ffmpeg.run(["-y", "-i", str(CLIP), "-frames:v", "5", "-f", "rawvideo", "/dev/full"], what="loop export")
    assert str(raised.value) == ("loop export failed: no space left on the disk (free some space, or write it "
                                 "elsewhere)")
