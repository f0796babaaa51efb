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
from navtalk_desktop.core import media

HEAVY = ("mediapipe", "scipy", "PySide6", "cv2", "matplotlib")

# Runs one command in-process in a fresh interpreter, then lists the heavy packages it imported. The
# simulator serves until interrupted: a thread interrupts it once it has printed its address.
_PROBE = r"""
import io, json, sys, threading, time, _thread
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
