"""Kling credentials and bearer tokens: an HS256 JWT from an access/secret key pair, or a static API key.

Secrets live only inside `Credentials` (whose repr shows none) and the token cache; nothing here logs.
"""

from __future__ import annotations

import threading
import time
import warnings
from dataclasses import dataclass, field

import jwt
from jwt.warnings import InsecureKeyLengthWarning

from .errors import MissingCredentialsError

# Kling issues the secret keys; their length is not ours to choose, so PyJWT's advice is only noise.
warnings.filterwarnings("ignore", category=InsecureKeyLengthWarning)

TOKEN_LIFETIME = 1800  # seconds; the documented example
REFRESH_MARGIN = 60  # regenerate this long before `exp`
NBF_BACKDATE = 60  # official sample uses 5 s; wider tolerates a drifting desktop clock


@dataclass(frozen=True)
class Credentials:
    """Either `access_key` + `secret_key` (JWT) or `api_key` (static bearer)."""

    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)
    source: str = "unknown"  # "env", "keyring", "session", "simulator"... never a secret

    def __post_init__(self) -> None:
        for name in ("access_key", "secret_key", "api_key"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, value.strip() or None)
        if not self.api_key and not (self.access_key and self.secret_key):
            raise MissingCredentialsError(
                "Kling credentials need both an access key and a secret key, or a single API key"
            )

    @property
    def kind(self) -> str:
        return "api_key" if self.api_key else "access_key+secret_key"

    def secret_values(self) -> list[str]:
        """Every secret string, for log redaction."""
        return [v for v in (self.access_key, self.secret_key, self.api_key) if v]

    def __repr__(self) -> str:
        return f"Credentials(kind={self.kind!r}, source={self.source!r})"

    __str__ = __repr__


def make_jwt(access_key: str, secret_key: str, *, now: float | None = None,
             lifetime: int = TOKEN_LIFETIME, nbf_backdate: int = NBF_BACKDATE) -> str:
    """The official token: header {alg: HS256, typ: JWT}, claims {iss, exp, nbf}, keyed with the SK bytes."""
    now = int(time.time() if now is None else now)
    token = jwt.encode(
        {"iss": access_key, "exp": now + lifetime, "nbf": now - nbf_backdate},
        secret_key.encode("utf-8"),
        algorithm="HS256",
        headers={"typ": "JWT"},
    )
    return token.decode("ascii") if isinstance(token, bytes) else token


class TokenProvider:
    """Hands out the bearer value, caching a JWT and regenerating it before it expires."""

    def __init__(self, credentials: Credentials, *, clock=time.time) -> None:
        self._credentials = credentials
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0

    @property
    def credentials(self) -> Credentials:
        return self._credentials

    def bearer(self) -> str:
        creds = self._credentials
        if creds.api_key:
            return creds.api_key
        with self._lock:
            now = self._clock()
            if self._token is None or now >= self._expires_at - REFRESH_MARGIN:
                assert creds.access_key and creds.secret_key
                self._token = make_jwt(creds.access_key, creds.secret_key, now=now)
                self._expires_at = int(now) + TOKEN_LIFETIME
            return self._token

    def invalidate(self) -> None:
        """Forget the cached token (after a 1000-1004 answer) so the next call signs a fresh one."""
        with self._lock:
            self._token = None
            self._expires_at = 0.0

    def __repr__(self) -> str:
        return f"TokenProvider({self._credentials!r})"
