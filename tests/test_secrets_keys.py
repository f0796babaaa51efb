"""Keys: OS keyring (an in-memory backend stands in for the OS one, per keyring's own test advice),
environment override, session-only keys, and a clear message on machines without a keyring."""

from __future__ import annotations

import keyring
import pytest
from keyring.errors import KeyringError

from keyring_helpers import MemoryKeyring
from kling_helpers import isolated_dirs  # noqa: F401
from navtalk_desktop.cli.main import main
from navtalk_desktop.core import secrets
from navtalk_desktop.core.logs import redact


class BrokenKeyring(MemoryKeyring):
    """A backend whose D-Bus/daemon is gone: every call fails."""

    def get_password(self, service, username):
        raise KeyringError("org.freedesktop.DBus.Error.ServiceUnknown")

    set_password = delete_password = lambda self, *a: (_ for _ in ()).throw(RuntimeError("dbus is gone"))


@pytest.fixture
def backend(request, isolated_dirs):
    previous = keyring.get_keyring()
    chosen = {"memory": MemoryKeyring, "broken": BrokenKeyring}.get(getattr(request, "param", "memory"))
    if chosen is None:
        from keyring.backends.fail import Keyring as FailKeyring

        chosen = FailKeyring
    instance = chosen()
    keyring.set_keyring(instance)
    secrets.clear_session_credentials()
    yield instance
    keyring.set_keyring(previous)
    secrets.clear_session_credentials()


def test_keyring_round_trip_under_the_app_service(backend):
    secrets.store_in_keyring(access_key="ak-kr-0001", secret_key="sk-kr-0002")
    assert backend.store[("navtalk_desktop", "kling_access_key")] == "ak-kr-0001"
    creds = secrets.load_credentials()
    assert creds.source == "keyring" and creds.access_key == "ak-kr-0001" and creds.secret_key == "sk-kr-0002"
    secrets.store_in_keyring(api_key="api-kr-0003")  # switching scheme removes the pair
    assert ("navtalk_desktop", "kling_access_key") not in backend.store
    assert secrets.load_credentials().kind == "api_key"
    secrets.clear_keyring()
    assert backend.store == {} and secrets.load_credentials() is None


def test_environment_wins_and_is_registered_for_redaction(backend, monkeypatch):
    secrets.store_in_keyring(api_key="api-kr-0003")
    monkeypatch.setenv("KLING_ACCESS_KEY", "ak-env-0004")
    monkeypatch.setenv("KLING_SECRET_KEY", "sk-env-0005-redact-me")
    creds = secrets.load_credentials()
    assert creds.source == "environment" and creds.access_key == "ak-env-0004"
    assert redact("token sk-env-0005-redact-me") == "token ***"
    status = secrets.key_status()
    assert status.active_source == "environment" and status.keyring_has_keys
    assert "sk-env" not in status.describe() and "api-kr" not in status.describe()


@pytest.mark.parametrize("backend", ["fail", "broken"], indirect=True)
def test_no_keyring_gives_a_clear_message_not_a_traceback(backend, capsys):
    assert secrets.load_credentials() is None  # reading just finds nothing
    with pytest.raises(secrets.SecretStoreUnavailable, match="KLING_ACCESS_KEY and KLING_SECRET_KEY"):
        secrets.store_in_keyring(api_key="api-x-0006")
    assert secrets.set_session_credentials(api_key="api-session-0007").source == "session"
    assert secrets.load_credentials().api_key == "api-session-0007"
    status = secrets.key_status()
    assert not status.keyring_available and status.active_source == "session"
    assert main(["keys", "status"]) == 0
    out = capsys.readouterr().out
    assert "OS keyring unavailable" in out and "api-session" not in out


@pytest.mark.parametrize("backend", ["fail"], indirect=True)
def test_cli_keys_set_without_keyring(backend, capsys, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("ak-cli-0008\nsk-cli-0009\n"))
    assert main(["keys", "set"]) == 1
    err = capsys.readouterr().err
    assert "navtalk-loop: error: no OS keyring backend is available" in err and "Traceback" not in err
    assert "sk-cli-0009" not in err


def test_cli_keys_set_status_clear(backend, capsys, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("ak-cli-0010\nsk-cli-0011\n"))
    assert main(["keys", "set"]) == 0
    assert backend.store[("navtalk_desktop", "kling_secret_key")] == "sk-cli-0011"
    assert main(["keys", "status"]) == 0
    out = capsys.readouterr().out
    assert "access key + secret key from the keyring" in out and "sk-cli" not in out and "ak-cli" not in out
    monkeypatch.setattr("sys.stdin", io.StringIO("api-cli-0012\n"))
    assert main(["keys", "set", "--api-key"]) == 0
    assert secrets.load_credentials().api_key == "api-cli-0012"
    assert main(["keys", "clear"]) == 0
    assert backend.store == {}
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    assert main(["keys", "set"]) == 1
    assert "no value given for kling access key" in capsys.readouterr().err
