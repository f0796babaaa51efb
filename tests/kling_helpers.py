"""Shared fixtures for the Kling tests: a fast simulator on loopback, test keys, portraits, isolated dirs.

Import the fixtures you need into a test module (`from kling_helpers import simulator, ...`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets as pysecrets
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from navtalk_desktop.core.jobs import JobStore
from navtalk_desktop.core.kling.auth import Credentials
from navtalk_desktop.core.kling.client import KlingClient, PollPolicy, RetryPolicy
from navtalk_desktop.core.kling.generation import KlingGenerator
from navtalk_desktop.core.resources import sample_portrait
from navtalk_desktop.simulator import SimulatorConfig, start_simulator

# Random per session, so a grep for them in logs/DB proves nothing leaked by coincidence.
TEST_ACCESS_KEY = "AK" + pysecrets.token_hex(12)
TEST_SECRET_KEY = "SK" + pysecrets.token_hex(16)
TEST_API_KEY = "API" + pysecrets.token_hex(16)
REPO = Path(__file__).resolve().parents[1]
FAST_POLL = PollPolicy(initial=0.05, factor=1.5, max_interval=0.2, timeout=60)
FAST_RETRY = RetryPolicy(attempts=6, initial=0.05, factor=2.0, max_delay=0.5)


def creds_for_tests() -> Credentials:
    return Credentials(access_key=TEST_ACCESS_KEY, secret_key=TEST_SECRET_KEY, source="test")


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def fast_config(cache_dir: Path, **overrides) -> SimulatorConfig:
    values = dict(submitted_seconds=0.05, processing_seconds=0.25, invalid_image_fail_seconds=0.1,
                  video_max_side=320, render_cache_dir=cache_dir,
                  keypairs={TEST_ACCESS_KEY: TEST_SECRET_KEY}, api_keys=(TEST_API_KEY,))
    values.update(overrides)
    return SimulatorConfig(**values)


@pytest.fixture(scope="session")
def render_cache(tmp_path_factory) -> Path:
    """One render cache for the whole session: each (portrait, fps, duration) is animated once."""
    return tmp_path_factory.getbasetemp() / "kling-render-cache"


@pytest.fixture(scope="session")
def portrait_320(tmp_path_factory) -> Path:
    path = tmp_path_factory.getbasetemp() / "portrait_320.png"
    if not path.exists():
        Image.open(sample_portrait()).convert("RGB").resize((320, 320), Image.LANCZOS).save(path)
    return path


@pytest.fixture
def isolated_dirs(tmp_path, monkeypatch) -> Path:
    """Job database, logs and keys isolated from the user's machine."""
    data, logs = tmp_path / "data", tmp_path / "logs"
    monkeypatch.setenv("NAVTALK_DATA_DIR", str(data))
    monkeypatch.setenv("NAVTALK_LOG_DIR", str(logs))
    for name in ("KLING_ACCESS_KEY", "KLING_SECRET_KEY", "KLING_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield tmp_path
    for handler in root.handlers:  # in-process CLI runs add a log file handler: leave the root as found
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


@pytest.fixture
def simulator(render_cache):
    handle = start_simulator(config=fast_config(render_cache))
    yield handle
    handle.stop()


def make_client(sim, credentials: Credentials | None = None, **kwargs) -> KlingClient:
    kwargs.setdefault("retry", FAST_RETRY)
    return KlingClient(credentials or creds_for_tests(), base_url=sim.base_url, **kwargs)


def make_generator(sim, credentials: Credentials | None = None, **client_kwargs) -> KlingGenerator:
    return KlingGenerator(make_client(sim, credentials, **client_kwargs), JobStore(), poll=FAST_POLL,
                          download_retry=FAST_RETRY)


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Environment for a `python -m navtalk_desktop.cli.main` child: isolated dirs and the test keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLING_")}
    env.update(NAVTALK_DATA_DIR=str(tmp_path / "data"), NAVTALK_LOG_DIR=str(tmp_path / "logs"),
               KLING_ACCESS_KEY=TEST_ACCESS_KEY, KLING_SECRET_KEY=TEST_SECRET_KEY,
               PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    env.update(extra)
    return env


def run_cli(args: list[str], env: dict[str, str], timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "navtalk_desktop.cli.main", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout, **kwargs)


def start_cli(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "navtalk_desktop.cli.main", *args], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
