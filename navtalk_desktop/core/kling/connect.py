"""One call that gives the CLI or the studio a ready KlingGenerator: real Kling with stored keys, a custom
host, or the local simulator for the offline demo (started in-process and stopped on close)."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlparse

from ..jobs import JobStore
from .auth import Credentials
from .client import KlingClient, PollPolicy, is_loopback_host, resolve_base_url
from .errors import MissingCredentialsError
from .generation import KlingGenerator

#: A local server costs nothing to ask: poll it often.
LOCAL_POLL = PollPolicy(initial=0.2, factor=1.5, max_interval=1.0)


def is_loopback(url: str) -> bool:
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


@dataclass
class GenerationSession:
    generator: KlingGenerator
    simulator: object | None = None  # a SimulatorHandle when running offline

    @property
    def base_url(self) -> str:
        return self.generator.client.base_url

    @property
    def offline(self) -> bool:
        return self.simulator is not None

    def close(self) -> None:
        self.generator.client.close()
        self.generator.store.close()
        if self.simulator is not None:
            self.simulator.stop()

    def __enter__(self) -> "GenerationSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_session(*, region: str | None = None, base_url: str | None = None,
                 credentials: Credentials | None = None, demo: bool | None = False,
                 simulator_seconds: float | None = None, timeout_minutes: float = 30.0,
                 store: JobStore | None = None) -> GenerationSession:
    """`demo=True` always uses a local simulator; `demo=None` uses one only when no keys are configured
    (the studio's offline demo); `demo=False` needs keys (or a loopback base URL, where the simulator's
    public demo keys are used)."""
    from .. import secrets

    sim = None
    if credentials is None and not demo:
        credentials = secrets.load_credentials()
    if demo or (demo is None and credentials is None and not base_url):
        from ...simulator import SimulatorConfig, demo_credentials, start_simulator

        config = None
        if simulator_seconds is not None:
            config = SimulatorConfig(submitted_seconds=min(2.0, simulator_seconds / 4),
                                     processing_seconds=simulator_seconds)
        sim = start_simulator(config=config)
        url, credentials = sim.base_url, demo_credentials()
    else:
        url = resolve_base_url(region, base_url)
        if credentials is None and is_loopback(url):
            from ...simulator import demo_credentials

            credentials = demo_credentials()
        if credentials is None:
            raise MissingCredentialsError(
                "no Kling keys configured: run `navtalk-loop keys set`, or set KLING_ACCESS_KEY and "
                "KLING_SECRET_KEY (or KLING_API_KEY); to try it offline use the local simulator"
            )
    base = LOCAL_POLL if is_loopback(url) else PollPolicy()
    poll = PollPolicy(base.initial, base.factor, base.max_interval, timeout=timeout_minutes * 60)
    try:
        client = KlingClient(credentials, base_url=url)
        generator = KlingGenerator(client, store or JobStore(), poll=poll)
    except Exception:
        if sim is not None:
            sim.stop()
        raise
    return GenerationSession(generator, sim)
