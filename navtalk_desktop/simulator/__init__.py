"""A local Kling simulator: the real HTTP API shape on 127.0.0.1, for tests and the offline demo.

    handle = start_simulator(config=SimulatorConfig(processing_seconds=0.5))
    ... KlingClient(credentials, base_url=handle.base_url) ...
    handle.stop()
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from ..core.kling.auth import Credentials
from ..core.kling.client import is_loopback_host
from .config import DEMO_ACCESS_KEY, DEMO_SECRET_KEY, Faults, SimulatorConfig, parse_fault
from .server import ServerStats, SimulatorHTTPServer
from .tasks import TaskRegistry

__all__ = ["start_simulator", "SimulatorConfig", "SimulatorHandle", "Faults", "parse_fault",
           "demo_credentials", "DEMO_ACCESS_KEY", "DEMO_SECRET_KEY"]


def demo_credentials() -> Credentials:
    """The public demo key pair every simulator accepts by default."""
    return Credentials(access_key=DEMO_ACCESS_KEY, secret_key=DEMO_SECRET_KEY, source="simulator")


@dataclass
class SimulatorHandle:
    server: SimulatorHTTPServer
    thread: threading.Thread

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def config(self) -> SimulatorConfig:
        return self.server.config

    @property
    def faults(self) -> Faults:
        return self.server.config.faults

    @property
    def registry(self) -> TaskRegistry:
        return self.server.registry

    @property
    def stats(self) -> ServerStats:
        return self.server.stats

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.server.registry.stop()
        self.thread.join(timeout=5)

    def __enter__(self) -> "SimulatorHandle":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _check_loopback(host: str) -> None:
    if is_loopback_host(host):
        return
    raise ValueError(f"the simulator only listens on loopback (127.0.0.1), not {host!r}")


def start_simulator(port: int = 0, config: SimulatorConfig | None = None) -> SimulatorHandle:
    """Start the server in a background thread; port 0 picks a free port (see `handle.base_url`)."""
    config = config or SimulatorConfig()
    _check_loopback(config.host)
    server = SimulatorHTTPServer((config.host, port), config)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="kling-simulator", daemon=True)
    thread.start()
    return SimulatorHandle(server, thread)
