"""After full runs with keys set, no key or token appears in the log file, settings, job database,
command output or any exception text (the files are grepped)."""

from __future__ import annotations

import base64
import json
import traceback
from pathlib import Path

import pytest

from kling_helpers import (FAST_RETRY, TEST_ACCESS_KEY, TEST_API_KEY, TEST_SECRET_KEY, cli_env,  # noqa: F401
                           creds_for_tests, isolated_dirs, make_client, portrait_320, render_cache, run_cli,
                           simulator)
from navtalk_desktop.core.kling.auth import Credentials, TokenProvider
from navtalk_desktop.core.kling.client import KlingClient
from navtalk_desktop.core.kling.errors import KlingError

WRONG_SECRET = "SKwrong" + "7" * 30
JWT_HEADER = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
JWT_HEADER = JWT_HEADER.decode().rstrip("=")  # what every one of our tokens starts with
SECRETS = (TEST_ACCESS_KEY, TEST_SECRET_KEY, TEST_API_KEY, WRONG_SECRET, JWT_HEADER)


def _leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def _grep_tree(root: Path) -> dict[str, list[str]]:
    found = {}
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits = [s for s in SECRETS if s.encode() in data]
            if hits:
                found[str(path)] = hits
    return found


def test_no_secret_anywhere_after_full_runs(simulator, portrait_320, tmp_path):
    env = cli_env(tmp_path, NAVTALK_CONFIG_DIR=str(tmp_path / "config"))
    outputs = []
    # 1) AK/SK run through retries, a dropped download and verbose logging
    simulator.faults.set(server_errors=2, dropped_downloads=1)
    args = ["-v", "generate", str(portrait_320), "--out", str(tmp_path / "a.mp4"), "--base-url", simulator.base_url,
            "--model", "kling-v3", "--mode", "std", "--duration", "3"]
    run = run_cli(args, env)
    assert run.returncode == 0, run.stderr
    outputs += [run.stdout, run.stderr]
    # 2) static API key run
    api_env = {k: v for k, v in env.items() if k not in ("KLING_ACCESS_KEY", "KLING_SECRET_KEY")}
    api_env["KLING_API_KEY"] = TEST_API_KEY
    run = run_cli(args[:4] + [str(tmp_path / "b.mp4")] + args[5:] + ["--new"], api_env)
    assert run.returncode == 0, run.stderr
    outputs += [run.stdout, run.stderr]
    # 3) a wrong secret: the error is reported without the key or the token
    bad_env = dict(env, KLING_SECRET_KEY=WRONG_SECRET)
    run = run_cli(args[:4] + [str(tmp_path / "c.mp4")] + args[5:] + ["--new"], bad_env)
    assert run.returncode == 1 and "authorization is invalid" in run.stderr
    outputs += [run.stdout, run.stderr]
    # the studio's settings, saved by the same kind of process, hold no key either
    import os

    os.environ["NAVTALK_CONFIG_DIR"] = str(tmp_path / "config")
    try:
        from navtalk_desktop.core.settings import Settings, save_settings

        save_settings(Settings(base_url=simulator.base_url))
    finally:
        del os.environ["NAVTALK_CONFIG_DIR"]

    log_file = tmp_path / "logs" / "navtalk.log"
    log_text = log_file.read_text()
    assert "HTTP Request" in log_text and "job 1" in log_text  # the log really recorded the runs
    assert (tmp_path / "data" / "jobs.sqlite3").exists() and (tmp_path / "config" / "settings.json").exists()
    assert _grep_tree(tmp_path / "logs") == {}
    assert _grep_tree(tmp_path / "data") == {}
    assert _grep_tree(tmp_path / "config") == {}
    assert [o for o in outputs if _leaks(o)] == []


def test_exception_texts_and_reprs_hold_no_secret(simulator, tmp_path):
    creds = creds_for_tests()
    provider = TokenProvider(creds)
    token = provider.bearer()
    texts = [repr(creds), str(creds), repr(provider), repr(make_client(simulator, creds))]
    failures = []
    bad = make_client(simulator, Credentials(access_key=TEST_ACCESS_KEY, secret_key=WRONG_SECRET))
    unreachable = KlingClient(creds, base_url="http://127.0.0.1:9", retry=FAST_RETRY)  # nothing listens there
    for call in (bad.list_tasks, lambda: unreachable.get_task(TEST_SECRET_KEY[:4]),
                 lambda: Credentials(secret_key=TEST_SECRET_KEY)):
        with pytest.raises(KlingError) as err:
            call()
        failures.append(err.value)
    for exc in failures:
        texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    for text in texts:
        assert _leaks(text) == [] and token not in text
