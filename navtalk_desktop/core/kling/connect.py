"""Building a KlingGenerator for a known server and telling a loopback server from a remote one.

Choosing *which* server (real Kling, a custom host, the local simulator) is composition and lives above
`core`, in `navtalk_desktop/kling_session.py`: core never imports the simulator.
"""

from __future__ import annotations

import socket
from urllib.parse import urlparse

from ..jobs import JobStore
from .auth import Credentials
from .client import KlingClient, PollPolicy, is_loopback_host
from .generation import KlingGenerator

#: A local server costs nothing to ask: poll it often.
LOCAL_POLL = PollPolicy(initial=0.2, factor=1.5, max_interval=1.0)


def is_loopback(url: str) -> bool:
    """The one loopback test for a server URL: 127.0.0.0/8, ::1 and localhost."""
    return is_loopback_host(urlparse(url).hostname or "")


def local_server_gone(url: str, timeout: float = 1.0) -> bool:
    """True when `url` is on loopback and nothing listens there any more (a stopped simulator), so a job
    made on it can never finish. A remote host is never "gone": the network may come back."""
    parsed = urlparse(url)
    if not is_loopback(url):
        return False
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname, port), timeout=timeout):
            return False
    except OSError:
        return True


def poll_policy_for(url: str, timeout_minutes: float = 30.0) -> PollPolicy:
    """Quick polling on loopback, Kling's slower cadence elsewhere; both stop after `timeout_minutes`."""
    base = LOCAL_POLL if is_loopback(url) else PollPolicy()
    return PollPolicy(base.initial, base.factor, base.max_interval, timeout=timeout_minutes * 60)


def build_generator(url: str, credentials: Credentials, *, poll: PollPolicy | None = None,
                    timeout_minutes: float = 30.0, store: JobStore | None = None) -> KlingGenerator:
    """A generator on `url`; `poll` overrides the cadence (tests), else `poll_policy_for(url)`."""
    client = KlingClient(credentials, base_url=url)
    try:
        return KlingGenerator(client, store or JobStore(), poll=poll or poll_policy_for(url, timeout_minutes))
    except Exception:
        client.close()
        raise
