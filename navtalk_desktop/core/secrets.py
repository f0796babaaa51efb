"""Kling keys from the environment, a session-only memory store, or the OS keyring (service "navtalk_desktop").

Never from the settings file or the job database. A machine without a keyring backend (headless Linux)
gets a clear message and can still use environment variables or session-only keys. Every key that is
loaded is registered for log redaction.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from .app_paths import APP_ID
from .errors import NavTalkError
from .kling.auth import Credentials
from .logs import register_secret

SERVICE = APP_ID
ENV_ACCESS_KEY = "KLING_ACCESS_KEY"
ENV_SECRET_KEY = "KLING_SECRET_KEY"
ENV_API_KEY = "KLING_API_KEY"
#: keyring usernames under SERVICE
ACCOUNTS = {"access_key": "kling_access_key", "secret_key": "kling_secret_key", "api_key": "kling_api_key"}


class SecretStoreUnavailable(NavTalkError):
    """The OS keyring cannot be used on this machine."""


_session_lock = threading.Lock()
_session: dict[str, str] = {}


def _keyring_problem(exc: BaseException) -> SecretStoreUnavailable:
    from keyring.errors import NoKeyringError

    if isinstance(exc, NoKeyringError):
        reason = "no OS keyring backend is available on this machine (common on headless Linux)"
    else:
        reason = f"the OS keyring failed ({type(exc).__name__})"
    return SecretStoreUnavailable(
        f"{reason}. Set {ENV_ACCESS_KEY} and {ENV_SECRET_KEY} (or {ENV_API_KEY}) in the environment, "
        f"or keep the keys for this session only"
    )


def _register(creds: Credentials) -> Credentials:
    for value in creds.secret_values():
        register_secret(value)
    return creds


def _build(values: dict[str, str | None], source: str) -> Credentials | None:
    api = values.get("api_key")
    ak, sk = values.get("access_key"), values.get("secret_key")
    if ak and sk:
        return _register(Credentials(access_key=ak, secret_key=sk, source=source))
    if api:
        return _register(Credentials(api_key=api, source=source))
    return None


def env_credentials() -> Credentials | None:
    return _build({"access_key": os.environ.get(ENV_ACCESS_KEY), "secret_key": os.environ.get(ENV_SECRET_KEY),
                   "api_key": os.environ.get(ENV_API_KEY)}, "environment")


def session_credentials() -> Credentials | None:
    with _session_lock:
        values = dict(_session)
    return _build(values, "session")


def set_session_credentials(*, access_key: str | None = None, secret_key: str | None = None,
                            api_key: str | None = None) -> Credentials:
    """Keep keys in memory only (for a machine without a keyring, or by choice)."""
    creds = _register(Credentials(access_key=access_key, secret_key=secret_key, api_key=api_key, source="session"))
    with _session_lock:
        _session.clear()
        _session.update({k: v for k, v in (("access_key", creds.access_key), ("secret_key", creds.secret_key),
                                           ("api_key", creds.api_key)) if v})
    return creds


def clear_session_credentials() -> None:
    with _session_lock:
        _session.clear()


def keyring_credentials() -> Credentials | None:
    """Keys stored in the OS keyring; raises SecretStoreUnavailable if there is no usable keyring."""
    import keyring

    try:
        values = {name: keyring.get_password(SERVICE, account) for name, account in ACCOUNTS.items()}
    except Exception as exc:  # NoKeyringError, KeyringError, D-Bus failures...
        raise _keyring_problem(exc) from None
    return _build(values, "keyring")


def load_credentials() -> Credentials | None:
    """Environment first (CI, power users), then session keys, then the OS keyring. None if nothing is set."""
    creds = env_credentials() or session_credentials()
    if creds is not None:
        return creds
    try:
        return keyring_credentials()
    except SecretStoreUnavailable:
        return None


def store_in_keyring(*, access_key: str | None = None, secret_key: str | None = None,
                     api_key: str | None = None) -> Credentials:
    """Save keys in the OS keyring (replacing the other kind, so only one scheme is active)."""
    import keyring

    creds = _register(Credentials(access_key=access_key, secret_key=secret_key, api_key=api_key, source="keyring"))
    values = {"access_key": creds.access_key, "secret_key": creds.secret_key, "api_key": creds.api_key}
    try:
        for name, account in ACCOUNTS.items():
            if values[name]:
                keyring.set_password(SERVICE, account, values[name])
            else:
                _delete(account)
    except SecretStoreUnavailable:
        raise
    except Exception as exc:
        raise _keyring_problem(exc) from None
    return creds


def _delete(account: str) -> None:
    import keyring
    from keyring.errors import PasswordDeleteError

    try:
        keyring.delete_password(SERVICE, account)
    except PasswordDeleteError:
        pass  # nothing stored under that name
    except Exception as exc:
        raise _keyring_problem(exc) from None


def clear_keyring() -> None:
    for account in ACCOUNTS.values():
        _delete(account)


@dataclass(frozen=True)
class KeyStatus:
    """What is configured, and where from; never any part of a key."""

    active_source: str | None  # "environment", "session", "keyring" or None
    active_kind: str | None
    keyring_backend: str
    keyring_available: bool
    keyring_has_keys: bool
    keyring_message: str = ""

    def describe(self) -> str:
        lines = []
        if self.active_source:
            kind = "API key" if self.active_kind == "api_key" else "access key + secret key"
            lines.append(f"Kling keys in use: {kind} from the {self.active_source}")
        else:
            lines.append(f"no Kling keys configured (set them with `navtalk-loop keys set` or the "
                         f"{ENV_ACCESS_KEY}/{ENV_SECRET_KEY} or {ENV_API_KEY} environment variables)")
        if self.keyring_available:
            stored = "holds Kling keys" if self.keyring_has_keys else "holds no Kling keys"
            lines.append(f"OS keyring ({self.keyring_backend}) {stored}")
        else:
            lines.append(f"OS keyring unavailable: {self.keyring_message}")
        return "\n".join(lines)


def key_status() -> KeyStatus:
    import keyring

    try:
        backend = type(keyring.get_keyring()).__module__ + "." + type(keyring.get_keyring()).__name__
    except Exception:
        backend = "unknown"
    env = env_credentials() or session_credentials()
    try:
        stored = keyring_credentials()
        available, message = True, ""
    except SecretStoreUnavailable as exc:
        stored, available, message = None, False, str(exc)
    active = env or stored
    return KeyStatus(
        active_source=active.source if active else None,
        active_kind=active.kind if active else None,
        keyring_backend=backend,
        keyring_available=available,
        keyring_has_keys=stored is not None,
        keyring_message=message,
    )
