"""A Kling host that cannot be reached, rate limits, and a task the server forgot: real HTTP on loopback.

Each case ends quickly with a message that names the host and the likely cause, shows what it waits for
while it backs off, and never leaves a bare httpx class name ("ConnectError") or a traceback."""

from __future__ import annotations

import socket
import time

import pytest

from kling_helpers import (FAST_POLL, FAST_RETRY, cli_env, creds_for_tests, isolated_dirs,  # noqa: F401
                           make_generator, portrait_320, render_cache, run_cli, simulator)
from navtalk_desktop.core.jobs import FAILED, JobStore
from navtalk_desktop.core.kling.client import CreateTaskRequest, KlingClient
from navtalk_desktop.core.kling.errors import KlingTaskLostError, KlingTLSError, KlingUnreachableError
from navtalk_desktop.core.kling.generation import GenerationRequest
from navtalk_desktop.core.kling.preflight import prepare_image
from navtalk_desktop.core.kling.reach import ReachPolicy

QUICK_REACH = ReachPolicy(attempts=4, initial=0.05, factor=2.0)


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cli_on_an_unreachable_host_names_it_and_the_cause_within_30_s(portrait_320, tmp_path):
    port = closed_port()
    out = tmp_path / "x.mp4"
    started = time.monotonic()
    proc = run_cli(["generate", str(portrait_320), "--base-url", f"http://127.0.0.1:{port}", "--timeout", "5",
                    "--out", str(out)], cli_env(tmp_path), timeout=60)
    elapsed = time.monotonic() - started
    assert proc.returncode == 1 and elapsed < 30, (elapsed, proc.stderr)
    err = proc.stderr
    host = f"127.0.0.1:{port}"
    assert f"cannot reach {host} (attempt 1 of 4, next in 2 s)" in err
    assert f"cannot reach {host} (attempt 2 of 4, next in 4 s)" in err
    assert f"cannot reach {host} (attempt 3 of 4, next in 8 s)" in err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"navtalk-loop: error: cannot reach {host}: nothing is listening there")
    assert "(tried 4 times)" in last
    assert "Traceback" not in err and "ConnectError" not in err and not out.exists()


def test_https_to_a_plain_http_server_fails_at_once_with_the_reason(simulator, portrait_320, isolated_dirs,
                                                                    tmp_path):
    url = simulator.base_url.replace("http://", "https://")
    gen = make_generator(simulator)
    gen.client = KlingClient(creds_for_tests(), base_url=url, retry=FAST_RETRY)
    started = time.monotonic()
    with pytest.raises(KlingTLSError, match=r"cannot reach 127\.0\.0\.1:\d+: .*plain-HTTP server") as info:
        gen.generate(GenerationRequest(image=portrait_320, output=tmp_path / "o.mp4", model="kling-v3",
                                       mode="std", duration="3"))
    assert time.monotonic() - started < 5  # no retries: TLS to a plain-HTTP port never starts working
    assert "ConnectError" not in str(info.value)
    assert simulator.stats.create_requests == 0
    job = gen.store.list()[0]
    assert job.stage == FAILED and job.task_id is None  # nothing was sent, nothing to resume


def test_cli_https_to_a_plain_http_server(simulator, portrait_320, tmp_path):
    url = simulator.base_url.replace("http://", "https://")
    proc = run_cli(["generate", str(portrait_320), "--base-url", url, "--out", str(tmp_path / "o.mp4"),
                    "--model", "kling-v3", "--mode", "std", "--duration", "3"], cli_env(tmp_path), timeout=60)
    assert proc.returncode == 1
    assert "it looks like a plain-HTTP server, so use http://" in proc.stderr
    assert "Traceback" not in proc.stderr and "ConnectError" not in proc.stderr


def test_unreachable_create_sends_no_lookups_and_stops_after_the_reach_attempts(portrait_320):
    """A connection that never opened cannot have created a task: no lookups by external_task_id."""
    client = KlingClient(creds_for_tests(), base_url=f"http://127.0.0.1:{closed_port()}", retry=FAST_RETRY,
                         reach=QUICK_REACH)
    notices = []
    client.on_notice = notices.append
    request = CreateTaskRequest(image_base64=prepare_image(portrait_320).base64(), model="kling-v3", mode="std",
                                duration="3", prompt="a face", external_task_id="navtalk-test")
    with pytest.raises(KlingUnreachableError, match=r"nothing is listening there.*\(tried 4 times\)"):
        client.create_task(request)
    assert [n.split(" (")[1].split(",")[0] for n in notices] == ["attempt 1 of 4", "attempt 2 of 4",
                                                                "attempt 3 of 4"]


def test_one_deadline_bounds_the_whole_phase():
    client = KlingClient(creds_for_tests(), base_url=f"http://127.0.0.1:{closed_port()}",
                         reach=ReachPolicy(attempts=10, initial=1.0, factor=1.0))
    started = time.monotonic()
    with client.phase(2.5), pytest.raises(KlingUnreachableError):
        client.list_tasks()
    assert 1.5 < time.monotonic() - started < 3.0  # two 1 s waits fit, the third would pass the deadline


def test_dns_failure_is_named(isolated_dirs):
    client = KlingClient(creds_for_tests(), base_url="https://no-such-host.invalid", reach=QUICK_REACH)
    with pytest.raises(KlingUnreachableError, match=r"no-such-host\.invalid:443: the name no-such-host\.invalid "
                                                     r"does not resolve"):
        client.list_tasks()


def test_rate_limit_backoff_is_shown(simulator, portrait_320, isolated_dirs, tmp_path):
    simulator.faults.set(rate_limits=2)
    seen = []
    result = make_generator(simulator).generate(
        GenerationRequest(image=portrait_320, output=tmp_path / "o.mp4", model="kling-v3", mode="std",
                          duration="3"), on_progress=lambda p: seen.append((p.stage, p.message)))
    assert result.job.stage == "done" and simulator.registry.created_count == 1
    notices = [m for stage, m in seen if m.startswith("rate limited")]
    assert len(notices) == 2 and all(stage == "creating" for stage, m in seen if m in notices)
    assert notices[0].startswith("rate limited (code 1302), retrying in ") and notices[0].endswith(" s")


def test_a_task_the_server_forgot_is_marked_lost(simulator, portrait_320, isolated_dirs, tmp_path):
    simulator.faults.set(forget_tasks=True)
    gen = make_generator(simulator)
    with pytest.raises(KlingTaskLostError, match=r"Kling no longer knows task \d+ .*code 1203.*cannot be resumed"):
        gen.generate(GenerationRequest(image=portrait_320, output=tmp_path / "o.mp4", model="kling-v3",
                                       mode="std", duration="3"))
    job = JobStore().list()[0]
    assert job.stage == FAILED and not job.resumable and job.task_id is not None
    assert job.error_kind == "KlingTaskLostError" and "no longer knows task" in job.error_message
    assert not (tmp_path / "o.mp4").exists()


def test_a_backoff_while_polling_keeps_the_stage_and_elapsed_time(simulator, portrait_320, isolated_dirs, tmp_path):
    seen = []

    def on_progress(p):
        if p.stage == "processing" and not any(s.stage == "processing" for s in seen):
            simulator.faults.set(server_errors=1)  # the next poll gets a 500
        seen.append(p)

    make_generator(simulator).generate(GenerationRequest(image=portrait_320, output=tmp_path / "o.mp4",
                                                         model="kling-v3", mode="std", duration="3"),
                                       on_progress=on_progress)
    notices = [p for p in seen if "retrying in" in p.message]
    assert notices and notices[0].stage == "processing" and notices[0].elapsed > 0
    assert notices[0].message.startswith("Kling server error")
