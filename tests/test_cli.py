"""The `navtalk-loop` command as a user runs it: a real subprocess, real files."""

import csv
import io
import json
import os
import subprocess
import sys

import pytest


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "navtalk_desktop.cli.main", *map(str, args)],
                          capture_output=True, text=True, timeout=300, cwd=cwd, env=os.environ.copy())


@pytest.mark.parametrize("case", ["missing", "directory", "empty", "truncated", "image", "text", "audio", "zero"])
def test_export_refuses_bad_input_and_writes_nothing(case, bad_inputs, tmp_path):
    path, expected = bad_inputs[case]
    out = tmp_path / "loop.mp4"
    proc = run_cli("export", path, "--out", out)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert "error:" in proc.stderr
    import re

    assert re.search(expected, proc.stderr), proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_export_refuses_unwritable_output(fixtures_dir, tmp_path):
    target = tmp_path / "not_a_folder"
    target.write_text("a file where a folder should be")
    proc = run_cli("export", fixtures_dir / "liveportrait_d18.mp4", "--out", target / "loop.mp4")
    assert proc.returncode != 0 and "output folder" in proc.stderr
    proc = run_cli("export", fixtures_dir / "liveportrait_d18.mp4", "--out", "/proc/loop.mp4")
    assert proc.returncode != 0 and "not writable" in proc.stderr
    assert not (tmp_path / "loop.mp4").exists()


def test_analyze_json_and_csv(fixtures_dir, annotations):
    proc = run_cli("analyze", fixtures_dir / "liveportrait_d18.mp4", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert len(data["ear"]["right"]) == len(data["ear"]["left"]) == 216
    assert data["video"]["frame_count"] == 216
    apexes = [e["apex"] for e in data["events"]]
    assert all(any(abs(a - b["apex"]) <= 2 for a in apexes) for b in annotations["liveportrait_d18.mp4"]["blinks"])
    proc = run_cli("analyze", fixtures_dir / "liveportrait_d18.mp4", "--csv")
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert len(rows) == 216
    assert any(r["event"].endswith("_apex") for r in rows)
    proc = run_cli("analyze", fixtures_dir / "liveportrait_d18.mp4")
    assert "most confident clean blink: frame" in proc.stdout


def test_export_at_a_given_point_then_inspect(fixtures_dir, tmp_path):
    out = tmp_path / "loop.webm"
    proc = run_cli("export", fixtures_dir / "liveportrait_d12.mp4", "--out", out, "--at", "2.0",
                   "--strategy", "pingpong", "--duration", "3")
    assert proc.returncode == 0, proc.stderr
    sidecar = json.loads((tmp_path / "loop.webm.json").read_text())
    assert sidecar["plan"]["loop_point"] == 50 and sidecar["plan"]["output_frames"] == 76
    proc = run_cli("inspect", out, "--json")
    report = json.loads(proc.stdout)
    assert report["frame_count"] == 76 and report["expected_frames"] == 76
    assert len(report["turn_cosines"]) == 2


def test_no_blink_video_exports_at_a_user_point(face_video_factory, tmp_path):
    source, _ = face_video_factory(fps=25, duration=3.0, blink_times=())
    proc = run_cli("export", source, "--out", tmp_path / "x.mp4")
    assert proc.returncode != 0 and "--at SECONDS or --frame N" in proc.stderr
    assert "(the face never closes its eyes in this clip)" in proc.stderr  # why, not a bare no
    assert not (tmp_path / "x.mp4").exists()
    proc = run_cli("export", source, "--out", tmp_path / "x.mp4", "--frame", "30", "--strategy", "pingpong",
                   "--duration", "2")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "x.mp4").exists()


def test_demo_runs_offline(tmp_path):
    proc = run_cli("demo", "--out-dir", tmp_path / "demo")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "demo" / "loop.mp4").exists()
    sidecar = json.loads((tmp_path / "demo" / "loop.mp4.json").read_text())
    assert sidecar["plan"]["output_frames"] == 100
    assert sidecar["seam"]["seam_duplicates"] == 0
    assert "verdict:" in proc.stdout


def test_outputs_get_the_users_usual_file_mode(fixtures_dir, tmp_path):
    out = tmp_path / "loop.mp4"
    proc = run_cli("export", fixtures_dir / "liveportrait_d18.mp4", "--out", out, "--strategy", "pingpong")
    assert proc.returncode == 0, proc.stderr
    mask = os.umask(0)
    os.umask(mask)
    assert (out.stat().st_mode & 0o777) == (0o666 & ~mask)
    assert ((tmp_path / "loop.mp4.json").stat().st_mode & 0o777) == (0o666 & ~mask)


def test_version_is_the_installed_one_and_reading_it_is_left_to_version():
    """`--version` prints the package metadata's version; other commands never import importlib.metadata."""
    from importlib.metadata import version

    proc = run_cli("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"navtalk-loop {version('navtalk-desktop')}", proc
    probe = subprocess.run([sys.executable, "-c", "import sys; import navtalk_desktop.cli.main as m; "
                            "m.build_parser(['export']); print('importlib.metadata' in sys.modules)"],
                           capture_output=True, text=True, timeout=120)
    assert probe.stdout.strip() == "False", probe.stderr


def test_the_program_exits_with_the_commands_status_after_the_exit_handlers_and_a_flush(tmp_path):
    """console_main skips the interpreter's teardown (os._exit) but not what a finished command owes: the
    exit handlers run, everything printed reaches the pipe, and the status is the command's."""
    code = ("import atexit, sys; from navtalk_desktop.cli import main as m; "
            "atexit.register(lambda: print('exit handler ran')); "
            f"sys.argv = ['navtalk-loop', 'inspect', {str(tmp_path / 'missing.mp4')!r}]; m.console_main()")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc
    assert "navtalk-loop: error:" in proc.stderr and "missing.mp4" in proc.stderr
    assert proc.stdout.strip().endswith("exit handler ran")
