"""`navtalk-loop generate | jobs | simulator` from the command line, against the simulator on loopback."""

from __future__ import annotations

import io
import signal
import subprocess
import sys

import pytest
from PIL import Image

from kling_helpers import (REPO, TEST_ACCESS_KEY, TEST_SECRET_KEY, isolated_dirs, portrait_320,  # noqa: F401
                           render_cache, sha256, simulator)
from navtalk_desktop.cli.kling_progress import GenerationProgressPrinter
from navtalk_desktop.cli.main import main
from navtalk_desktop.core.kling.generation import GenerationProgress
from navtalk_desktop.core.media import probe

FAST = ["--model", "kling-v3", "--mode", "std", "--duration", "3"]


@pytest.fixture
def keys(monkeypatch, isolated_dirs):
    monkeypatch.setenv("KLING_ACCESS_KEY", TEST_ACCESS_KEY)
    monkeypatch.setenv("KLING_SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")


def test_generate_prints_plain_progress_lines_and_the_result(simulator, portrait_320, keys, tmp_path, capsys):
    out = tmp_path / "clip.mp4"
    assert main(["generate", str(portrait_320), "--out", str(out), "--base-url", simulator.base_url, *FAST]) == 0
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert lines[0] == "preflight, checking the image"
    assert any(line.startswith("submitted, job 1, elapsed 0:00, typical 2:44") for line in lines)
    assert any(line.startswith("downloading (succeed), job 1") and "MB" in line for line in lines)
    assert lines[-1].startswith("done (succeed), job 1")
    assert "\r" not in captured.err  # no bar when stderr is not a terminal
    assert captured.out.startswith(f"{out} (3.00 s, 320x320, 24 fps; job 1, task ")
    assert probe(out).frame_count == 72


def test_progress_bar_on_a_terminal():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    stream = Tty()
    bar = GenerationProgressPrinter(stream)
    bar(GenerationProgress("processing", job_id=3, task_status="processing", elapsed=82))
    bar(GenerationProgress("downloading", job_id=3, task_status="succeed", elapsed=90, bytes_done=500_000,
                           bytes_total=1_000_000))
    bar(GenerationProgress("done", job_id=3, task_status="succeed", elapsed=91))
    text = stream.getvalue()
    assert text.count("\r[") == 3 and text.endswith("\n")
    assert "elapsed 1:22, typical 2:44" in text and "0.5 MB / 1.0 MB" in text and "100%" in text


@pytest.mark.parametrize("extra,message", [
    (["--model", "kling-v2-master", "--loop-tail"], "kling-v2-master does not support an end frame"),
    (["--model", "kling-v1", "--mode", "std", "--duration", "10", "--loop-tail"],
     "loop mode (image_tail) is not supported for kling-v1/std/10 s"),
    (["--duration", "7"], "cannot make a 7 s video"),
    (["--prompt", "x" * 2600], "Kling accepts at most 2500"),
    ([*FAST, "--prompt", ""], "kling-v3 needs a prompt"),
    (["--base-url", "http://kling-proxy.example"], "plain http; use https://"),
])
def test_impossible_requests_fail_before_any_request(simulator, portrait_320, keys, tmp_path, capsys, extra,
                                                     message):
    code = main(["generate", str(portrait_320), "--out", str(tmp_path / "o.mp4"), "--base-url",
                 simulator.base_url, *extra])
    assert code == 1 and message in capsys.readouterr().err
    assert simulator.stats.api_requests == 0


def test_fix_needs_consent_and_reports_the_change(simulator, portrait_320, keys, tmp_path, capsys):
    webp = tmp_path / "face.webp"
    Image.open(portrait_320).save(webp, "WEBP", quality=95)
    args = ["generate", str(webp), "--out", str(tmp_path / "o.mp4"), "--base-url", simulator.base_url, *FAST]
    assert main(args) == 1
    assert "it is WEBP, Kling accepts JPG or PNG only. Run again with --fix" in capsys.readouterr().err
    assert simulator.stats.api_requests == 0
    assert main([*args, "--fix"]) == 0
    assert "image fixed: converted WEBP → PNG" in capsys.readouterr().err
    assert simulator.stats.create_bodies[0]["image"].startswith("iVBORw0KGgo")  # a PNG, raw base64


def test_missing_keys_for_a_remote_host(portrait_320, isolated_dirs, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    assert main(["generate", str(portrait_320), "--out", str(tmp_path / "o.mp4"), "--region", "beijing"]) == 1
    assert "no Kling keys configured" in capsys.readouterr().err


def test_in_process_simulator_option(portrait_320, isolated_dirs, tmp_path, capsys):
    out = tmp_path / "demo.mp4"
    assert main(["generate", str(portrait_320), "--out", str(out), "--simulator", "--simulator-seconds", "0.3",
                 *FAST]) == 0
    assert "using a local Kling simulator at http://127.0.0.1:" in capsys.readouterr().err
    assert probe(out).duration == pytest.approx(3.0, abs=0.05)


def test_jobs_list_show_resume_forget(simulator, portrait_320, keys, tmp_path, capsys):
    out = tmp_path / "clip.mp4"
    main(["generate", str(portrait_320), "--out", str(out), "--base-url", simulator.base_url, *FAST])
    capsys.readouterr()
    assert main(["jobs"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].split() == ["ID", "CREATED", "STAGE", "KLING", "MODEL", "RESULT"]
    assert listing[1].split()[0] == "1" and "done" in listing[1] and str(out) in listing[1]
    assert main(["jobs", "show", "1"]) == 0
    shown = capsys.readouterr().out
    assert "stage             done" in shown and "kept video" in shown and "30 days" in shown
    assert TEST_SECRET_KEY not in shown and TEST_ACCESS_KEY not in shown
    assert main(["jobs", "resume"]) == 0 and "no unfinished jobs" in capsys.readouterr().out
    assert main(["jobs", "show", "9"]) == 1 and "no job with id 9" in capsys.readouterr().err
    assert main(["jobs", "forget", "1"]) == 0
    assert main(["jobs"]) == 0 and "no Kling jobs yet" in capsys.readouterr().out
    assert out.exists()  # forgetting a job never deletes the user's output


def test_simulator_command_serves_until_stopped(portrait_320, isolated_dirs, tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "navtalk_desktop.cli.main", "simulator", "--processing-seconds",
                             "0.3", "--submitted-seconds", "0.05", "--video-max-side", "320",
                             "--fault", "server-errors=1"], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline().strip()
        assert first.startswith("Kling simulator listening on http://127.0.0.1:")
        base_url = first.rsplit(" ", 1)[1]
        out = tmp_path / "o.mp4"
        code = main(["generate", str(portrait_320), "--out", str(out), "--base-url", base_url, *FAST])
        assert code == 0 and probe(out).frame_count == 72  # demo keys work on loopback; the 5xx was retried
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        proc.stdout.close()


def test_bad_fault_name_is_a_clear_error(isolated_dirs, capsys):
    assert main(["simulator", "--fault", "meteor-strike=1"]) == 1
    assert "unknown fault 'meteor_strike'" in capsys.readouterr().err


def test_make_loop_generates_analyses_and_exports(isolated_dirs, tmp_path, capsys):
    import json

    from navtalk_desktop.core.resources import sample_portrait

    out = tmp_path / "idle_loop.mp4"
    code = main(["make-loop", str(sample_portrait()), "--out", str(out), "--simulator", "--simulator-seconds", "0.3",
                 "--model", "kling-v3", "--mode", "std", "--duration", "5"])
    assert code == 0
    captured = capsys.readouterr()
    clip = tmp_path / "idle_loop.kling.mp4"
    assert probe(clip).duration == pytest.approx(5.0, abs=0.05)  # the generated clip is kept next to the loop
    loop = probe(out)
    assert loop.duration == pytest.approx(4.0, abs=0.05) and float(loop.fps) == 24
    sidecar = json.loads((tmp_path / "idle_loop.mp4.json").read_text())
    assert sidecar["kling"]["model"] == "kling-v3" and sidecar["kling"]["task_id"]
    assert sidecar["source"]["sha256"] == sha256(clip)
    assert "verdict:" in captured.out and "auto: chose" in captured.err


def test_make_loop_refuses_an_unknown_loop_format_before_generating(isolated_dirs, portrait_320, tmp_path, capsys):
    assert main(["make-loop", str(portrait_320), "--out", str(tmp_path / "loop.avi"), "--simulator"]) == 1
    assert "navtalk-loop: error:" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.mp4"))


def test_interrupted_generation_says_how_to_resume(simulator, portrait_320, keys, tmp_path, capsys):
    simulator.faults.set(never_finish=True)
    args = ["generate", str(portrait_320), "--out", str(tmp_path / "o.mp4"), "--base-url", simulator.base_url,
            "--timeout", "0.02", *FAST]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "is still 'processing'" in err and "continue it with `navtalk-loop jobs resume 1`" in err
    simulator.faults.set(never_finish=False)
    assert main(["jobs", "resume", "1"]) == 0
    assert "resumed job 1" in capsys.readouterr().out


def test_in_process_simulator_jobs_are_closed_not_promised_a_resume(portrait_320, isolated_dirs, tmp_path, capsys,
                                                                     monkeypatch):
    import navtalk_desktop.simulator as simulator_module
    from navtalk_desktop.core.jobs import JobStore

    start = simulator_module.start_simulator

    def start_stuck(*a, **kw):  # the in-process simulator's tasks stay "processing"
        handle = start(*a, **kw)
        handle.faults.set(never_finish=True)
        return handle

    monkeypatch.setattr(simulator_module, "start_simulator", start_stuck)
    args = ["generate", str(portrait_320), "--out", str(tmp_path / "o.mp4"), "--simulator", "--simulator-seconds",
            "0.3", "--timeout", "0.02", *FAST]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "is still 'processing'" in err and "jobs resume" not in err  # its server ends with the command
    job = JobStore().get(1)
    assert job.stage == "failed" and not job.resumable and "no longer running" in job.error_message


def test_resume_of_a_job_whose_local_simulator_is_gone_fails_fast(render_cache, portrait_320, keys, tmp_path,
                                                                    capsys):
    import time

    from kling_helpers import fast_config
    from navtalk_desktop.core.jobs import JobStore
    from navtalk_desktop.simulator import start_simulator

    sim = start_simulator(config=fast_config(render_cache))
    sim.faults.set(never_finish=True)
    base_url = sim.base_url
    args = ["generate", str(portrait_320), "--out", str(tmp_path / "o.mp4"), "--base-url", base_url,
            "--timeout", "0.02", *FAST]
    assert main(args) == 1 and "jobs resume 1" in capsys.readouterr().err
    sim.stop()  # a `navtalk-loop simulator` that was closed: nothing listens on that port any more
    started = time.monotonic()
    assert main(["jobs", "resume"]) == 1
    assert time.monotonic() - started < 5  # not half an hour of polling a dead port
    err = capsys.readouterr().err
    assert f"job 1: the local Kling simulator that ran this job ({base_url}) is no longer running" in err
    assert JobStore().get(1).stage == "failed"
    assert main(["jobs", "resume"]) == 0 and "no unfinished jobs" in capsys.readouterr().out


def test_a_closed_stdout_pipe_exits_quietly(isolated_dirs, tmp_path):
    """`navtalk-loop jobs list | head -1`: the reader is gone before the command writes."""
    from kling_helpers import cli_env

    proc = subprocess.Popen([sys.executable, "-m", "navtalk_desktop.cli.main", "jobs", "list"], cwd=REPO,
                            env=cli_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # like `head -1` that has already read its line
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 141, err  # 128 + SIGPIPE, as a shell reports a command killed by the pipe
    assert b"Traceback" not in err and b"BrokenPipeError" not in err and err == b""


def test_make_loop_refuses_a_loop_that_would_replace_its_own_clip(isolated_dirs, portrait_320, tmp_path, capsys):
    out = tmp_path / "loop.mp4"
    args = ["make-loop", str(portrait_320), "--out", str(out), "--video-out", str(out), "--simulator", *FAST]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "is the input file" in err and "Traceback" not in err and not out.exists()


def test_rate_limit_backoff_is_a_progress_line(simulator, portrait_320, keys, tmp_path, capsys):
    simulator.faults.set(rate_limits=1)
    assert main(["generate", str(portrait_320), "--out", str(tmp_path / "o.mp4"), "--base-url", simulator.base_url,
                 *FAST]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert any(line.startswith("creating, job 1, rate limited (code 1302), retrying in ") and line.endswith(" s")
               for line in lines), lines
