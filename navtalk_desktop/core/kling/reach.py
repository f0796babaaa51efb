"""Why a Kling host cannot be reached, in words, and how often to try again before saying so.

httpx reports every failed connection as a bare `ConnectError`; the user needs the host and the likely
cause (nothing listening, TLS spoken to a plain-HTTP server, a name that does not resolve, a firewall),
so the exception chain is read here. An unreachable host is tried `ReachPolicy.attempts` times with a
short, fixed backoff: a desktop user waiting on a dead address wants an answer within seconds, not the
minutes of backoff that suit a busy server.
"""

from __future__ import annotations

import errno
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlparse

import httpx

from .errors import KlingTLSError, KlingUnreachableError


@dataclass(frozen=True)
class ReachPolicy:
    """Attempts for a host that does not accept connections: 2, 4, 8 s between them (~14 s in all)."""

    attempts: int = 4
    initial: float = 2.0
    factor: float = 2.0

    def delay(self, attempt: int) -> float:
        return self.initial * self.factor ** attempt


def host_of(url: str) -> str:
    """`host:port` as the user typed it (the port the scheme implies when none is given)."""
    parsed = urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    host = parsed.hostname or url
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def unreachable_error(exc: httpx.HTTPError, url: str, connect_timeout: float | None) -> KlingUnreachableError:
    """The typed error for a connection that never carried a request."""
    host = host_of(url)
    https = urlparse(url).scheme == "https"
    text = " ".join(str(e) for e in _chain(exc)).lower()
    causes = list(_chain(exc))
    if any(isinstance(e, ssl.SSLCertVerificationError) for e in causes) or "certificate verify failed" in text:
        cause = "its TLS certificate does not verify (wrong host name, expired, or a self-signed certificate)"
        return KlingTLSError(f"cannot reach {host}: {cause}", host=host, cause=cause)
    if https and (any(isinstance(e, ssl.SSLError) for e in causes) or "wrong version number" in text
                  or "record layer failure" in text or "unexpected eof" in text and "ssl" in text):
        cause = ("the TLS handshake failed: it looks like a plain-HTTP server, so use http:// (only for a "
                 "local simulator) or the right https:// port")
        return KlingTLSError(f"cannot reach {host}: {cause}", host=host, cause=cause)
    if isinstance(exc, httpx.ConnectTimeout) or any(isinstance(e, (TimeoutError, socket.timeout)) for e in causes):
        limit = f" within {connect_timeout:g} s" if connect_timeout else ""
        cause = f"no answer to the connection{limit} (wrong address, a firewall, or no network)"
    elif any(isinstance(e, socket.gaierror) for e in causes) or "name or service not known" in text \
            or "nodename nor servname" in text or "temporary failure in name resolution" in text:
        cause = f"the name {urlparse(url).hostname} does not resolve (DNS failure, a typo, or no network)"
    elif any(isinstance(e, ConnectionRefusedError) for e in causes) or "connection refused" in text \
            or any(getattr(e, "errno", None) == errno.ECONNREFUSED for e in causes):
        cause = "nothing is listening there (connection refused): check the address and port, or start the server"
    elif "network is unreachable" in text or "no route to host" in text:
        cause = "no route to it (the network is down or the address is wrong)"
    else:
        cause = f"the connection failed ({type(exc).__name__})"
    return KlingUnreachableError(f"cannot reach {host}: {cause}", host=host, cause=cause)


def is_unsent(exc: httpx.HTTPError) -> bool:
    """True when the request cannot have reached the server: the connection itself failed."""
    return isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
