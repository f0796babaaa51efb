"""Crash safety: a real `navtalk-loop generate` process is killed with SIGKILL after the create request
and mid-download, then restarted; it finishes the same job without a second create."""

from __future__ import annotations

import os
import signal
import sqlite3
import time

import pytest

from kling_helpers import cli_env, portrait_320, render_cache, run_cli, sha256, simulator, start_cli  # noqa: F401

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX-only")

GENERATE = ["--model", "kling-v3", "--mode", "std", "--duration", "3"]


def _wait_for(predicate, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _kill(proc):
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    proc.stdout.close()
    proc.stderr.close()


def _jobs(tmp_path):
    """Rows as another process sees them ([] while the child is still creating the schema)."""
    path = tmp_path / "data" / "jobs.sqlite3"
    if not path.exists():
        return []
    db = sqlite3.connect(path, timeout=5)
    try:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM jobs ORDER BY id")]
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()


def _rendered(sim):
    return {t.video_path for t in sim.registry.tasks() if t.video_path}.pop()


def test_killed_while_the_create_answer_is_in_flight(simulator, portrait_320, tmp_path):
    env = cli_env(tmp_path)
    out = tmp_path / "video.mp4"
    simulator.faults.set(create_answer_delay=4.0)
    proc = start_cli(["generate", str(portrait_320), "--out", str(out), "--base-url", simulator.base_url,
                      *GENERATE], env)
    assert simulator.registry.task_created.wait(30), "the create request never arrived"
    _kill(proc)  # the task exists on the server, the answer never reached the client
    rows = _jobs(tmp_path)
    assert len(rows) == 1 and rows[0]["task_id"] is None and rows[0]["create_attempts"] == 1
    simulator.faults.set(create_answer_delay=0.0)

    run = run_cli(["jobs", "resume"], env)
    assert run.returncode == 0, run.stderr
    assert simulator.registry.created_count == 1 and simulator.stats.create_requests == 1
    row = _jobs(tmp_path)[0]
    assert row["stage"] == "done" and row["task_id"] == simulator.registry.get(rows[0]["external_task_id"]).task_id
    assert sha256(out) == sha256(_rendered(simulator))


def test_killed_while_polling_then_the_same_command_resumes(simulator, portrait_320, tmp_path):
    env = cli_env(tmp_path)
    out = tmp_path / "video.mp4"
    simulator.faults.set(never_finish=True)  # Kling is "still processing" while the process dies
    command = ["generate", str(portrait_320), "--out", str(out), "--base-url", simulator.base_url, *GENERATE]
    proc = start_cli(command, env)
    _wait_for(lambda: any(j["task_status"] == "processing" for j in _jobs(tmp_path)),
              what="the processing status to be stored")
    _kill(proc)
    assert _jobs(tmp_path)[0]["stage"] == "polling"
    simulator.faults.set(never_finish=False)

    run = run_cli(command, env)  # the very same command finds the unfinished job instead of paying again
    assert run.returncode == 0, run.stderr
    assert "resumed job 1" in run.stdout
    assert simulator.registry.created_count == 1 and simulator.stats.create_requests == 1
    assert sha256(out) == sha256(_rendered(simulator))


def test_killed_mid_download_resumes_with_range(simulator, portrait_320, tmp_path):
    env = cli_env(tmp_path)
    out = tmp_path / "video.mp4"
    simulator.faults.set(download_bytes_per_second=30_000)
    proc = start_cli(["generate", str(portrait_320), "--out", str(out), "--base-url", simulator.base_url,
                      *GENERATE], env)
    _wait_for(lambda: simulator.stats.bytes_served >= 50_000, timeout=60, what="half the download")
    part = next((tmp_path / "data" / "jobs").glob("*/.result.mp4.part"))
    _wait_for(lambda: part.stat().st_size >= 32_000, what="bytes on disk")
    _kill(proc)
    kept = part.stat().st_size
    total = _rendered(simulator).stat().st_size
    assert 0 < kept < total and not out.exists()
    simulator.faults.set(download_bytes_per_second=None)

    run = run_cli(["jobs", "resume", "1"], env)
    assert run.returncode == 0, run.stderr
    resumed = [d for d in simulator.stats.downloads if d.range_start]
    assert resumed and resumed[0].status == 206 and resumed[0].range_start == kept
    assert resumed[0].bytes_sent == total - kept  # only the missing bytes were fetched again
    assert simulator.registry.created_count == 1 and simulator.stats.create_requests == 1
    assert sha256(out) == sha256(_rendered(simulator))
    row = _jobs(tmp_path)[0]
    assert row["stage"] == "done" and row["bytes_done"] == total
