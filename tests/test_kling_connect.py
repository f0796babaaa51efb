"""open_session: the one entry point the studio uses (real keys, custom host, or the offline demo)."""

from __future__ import annotations

import pytest

from kling_helpers import TEST_ACCESS_KEY, TEST_SECRET_KEY, isolated_dirs, portrait_320  # noqa: F401
from navtalk_desktop.core.kling.connect import LOCAL_POLL
from navtalk_desktop.kling_session import open_session
from navtalk_desktop.core.kling.errors import MissingCredentialsError
from navtalk_desktop.core.kling.generation import GenerationRequest


@pytest.fixture(autouse=True)
def no_keyring(monkeypatch):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")


def test_offline_demo_when_no_keys(isolated_dirs, portrait_320, tmp_path):
    with open_session(demo=None, simulator_seconds=0.3) as session:
        assert session.offline and session.base_url.startswith("http://127.0.0.1:")
        assert session.generator.poll.initial == LOCAL_POLL.initial
        result = session.generator.generate(GenerationRequest(image=portrait_320, output=tmp_path / "o.mp4",
                                                              model="kling-v3", mode="std", duration="3"))
        assert result.job.stage == "done" and result.job.base_url == session.base_url
    assert session.simulator.server.socket.fileno() == -1  # stopped on close


def test_keys_select_the_real_host(isolated_dirs, monkeypatch):
    monkeypatch.setenv("KLING_ACCESS_KEY", TEST_ACCESS_KEY)
    monkeypatch.setenv("KLING_SECRET_KEY", TEST_SECRET_KEY)
    with open_session(demo=None, region="cn") as session:  # nothing is sent until a request is made
        assert not session.offline and session.base_url == "https://api-beijing.klingai.com"
        assert session.generator.client.tokens.credentials.source == "environment"
        assert session.generator.poll.initial >= 1.0


def test_no_keys_and_no_demo_is_a_clear_error(isolated_dirs):
    with pytest.raises(MissingCredentialsError, match="no Kling keys configured"):
        open_session(demo=False)
