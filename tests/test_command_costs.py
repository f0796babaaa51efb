"""A command pays only for what it uses: light commands import no heavy library, and a source is probed
and hashed once per command, with the result carried through analysis, planning, export and the sidecar."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from navtalk_desktop.cli.main import main as cli_main
from navtalk_desktop.core import ffmpeg, media

HEAVY = ("mediapipe", "scipy", "PySide6", "cv2", "matplotlib")

# Runs one command in-process in a fresh interpreter, then lists the heavy packages it imported. The
# simulator serves until interrupted: a thread interrupts it once it has printed its address.
_PROBE = r"""
import io, json, signal, sys, threading, time, _thread
# Ctrl+C as a terminal delivers it: a test run started in the background inherits SIGINT ignored, and then
# interrupt_main would do nothing and the simulator would serve until the timeout.
signal.signal(signal.SIGINT, signal.default_int_handler)
argv = json.loads(sys.argv[1])
out = io.StringIO()
sys.stdout = out
if argv[0] == "simulator":
    def stop():
        for _ in range(400):
            if "stop with Ctrl+C" in out.getvalue():
                break
            time.sleep(0.05)
        _thread.interrupt_main()
    threading.Thread(target=stop, daemon=True).start()
from navtalk_desktop.cli.main import main
try:
    code = main(argv)
except SystemExit as exc:
    code = exc.code
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(sys.argv[2])))
sys.__stdout__.write(json.dumps({"code": code, "heavy": heavy, "out": out.getvalue()[:2000]}))
"""


@pytest.mark.parametrize("argv", [["--help"], ["jobs", "list"], ["jobs"], ["keys", "status"],
                                  ["simulator", "--port", "0"], ["export", "--help"], ["analyze", "--help"]])
def test_light_commands_import_no_heavy_library(argv, tmp_path):
    proc = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(argv), json.dumps(HEAVY)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["code"] in (0, None), report
    assert report["out"].strip(), "the command printed nothing: it did not run"
    assert report["heavy"] == [], f"{' '.join(argv)} imported {report['heavy']}"


@pytest.fixture
def counted(monkeypatch):
    """Counts of media.probe and media.content_hash calls, by resolved path."""
    probes, hashes = Counter(), Counter()
    real_probe, real_hash = media.probe, media.content_hash

    def probe(path, *a, **k):
        probes[Path(path).resolve()] += 1
        return real_probe(path, *a, **k)

    def content_hash(path, *a, **k):
        hashes[Path(path).resolve()] += 1
        return real_hash(path, *a, **k)

    monkeypatch.setattr(media, "probe", probe)
    monkeypatch.setattr(media, "content_hash", content_hash)
    return probes, hashes


@pytest.fixture
def source(fixtures_dir, tmp_path):
    clip = tmp_path / "face.mp4"
    clip.write_bytes((fixtures_dir / "liveportrait_d18.mp4").read_bytes())
    return clip.resolve()


def test_analyze_probes_and_hashes_its_source_once(counted, source, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NAVTALK_CACHE_DIR", str(tmp_path / "cache"))
    probes, hashes = counted
    outputs = []
    for run, expected_probes in (("cold", 1), ("cached", 0)):  # the cache holds the probe beside the landmarks
        probes.clear(), hashes.clear()
        assert cli_main(["analyze", str(source), "--json"]) == 0
        outputs.append(json.loads(capsys.readouterr().out))
        assert outputs[-1]["events"], run
        assert probes[source] == expected_probes and hashes[source] == 1, (run, probes, hashes)
    assert outputs[1]["video"] == outputs[0]["video"]  # the cached probe is the probe


@pytest.mark.parametrize("strategy", ["pingpong", "auto"])
def test_export_probes_and_hashes_its_source_once(counted, source, tmp_path, strategy, monkeypatch):
    monkeypatch.setenv("NAVTALK_CACHE_DIR", str(tmp_path / "cache"))  # cold: nothing cached
    probes, hashes = counted
    out = tmp_path / f"loop_{strategy}.mp4"
    args = ["export", str(source), "--out", str(out), "--strategy", strategy, "--duration", "3"]
    assert cli_main(args + (["--at", "1.3"] if strategy == "pingpong" else [])) == 0
    assert probes[source] == 1 and hashes[source] == 1, (probes, hashes)
    sidecar = json.loads(Path(str(out) + ".json").read_text())
    assert sidecar["source"]["sha256"] == media.content_hash(source)  # the carried hash is the file's
    assert sidecar["source"]["frame_count"] == 216


def test_export_decodes_its_source_once_planning_measures_on_the_analysis_frames(source, tmp_path, monkeypatch):
    """Planning measures on the gray frames the landmark pass decoded (cold) or the cache kept (after
    `analyze`): no gray decode of the source of its own in either."""
    from navtalk_desktop.core import landmarks
    from navtalk_desktop.core.seam import METRIC_WIDTH

    assert landmarks.SMALL_FRAME_WIDTH == METRIC_WIDTH  # the frames kept are the ones planning decodes
    decodes = Counter()
    real_popen = ffmpeg.popen

    def popen(args, **kwargs):  # every ffmpeg that decodes a file to raw frames, whoever starts it
        args = list(args)
        if "-i" in args and "rawvideo" in args[args.index("-i"):]:
            after = args[args.index("-i"):]
            first_format = after[after.index("-pix_fmt") + 1]
            decodes[(Path(after[1]).resolve(), "gray" if first_format == "gray" else "rgb")] += 1
        return real_popen(args, **kwargs)

    monkeypatch.setattr(ffmpeg, "popen", popen)
    monkeypatch.setenv("NAVTALK_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "loop.mp4"
    for run in ("cold", "after analyze"):
        if run == "after analyze":
            assert cli_main(["analyze", str(source), "--json"]) == 0  # the cache is filled by analyze
        decodes.clear()
        assert cli_main(["export", str(source), "--out", str(out), "--strategy", "pingpong", "--at", "1.3",
                         "--duration", "3"]) == 0
        assert decodes[(source, "gray")] == 0, (run, decodes)
        assert decodes[(source, "rgb")] == (1 if run == "cold" else 0), (run, decodes)


def test_the_landmark_pass_keeps_exactly_the_frames_planning_would_decode(source, tmp_path, monkeypatch):
    from navtalk_desktop.core.analysis import analyze_video
    from navtalk_desktop.core.seam import source_frames_small

    monkeypatch.setenv("NAVTALK_CACHE_DIR", str(tmp_path / "cache"))
    decoded = source_frames_small(source, media.probe(source))
    for run in ("cold", "cached"):
        kept = analyze_video(source, keep_small_frames=True).track.small_frames
        assert kept is not None and kept.dtype == decoded.dtype, run
        assert kept.shape == decoded.shape and (kept == decoded).all(), run  # bit for bit
    assert analyze_video(source).track.small_frames is None  # only kept when asked for
