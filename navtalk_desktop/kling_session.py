"""Composition of a Kling session, the one place that chooses real Kling or the local simulator.

It sits above `core` and `simulator` (core never imports the simulator): the CLI and the studio both ask
here for a ready KlingGenerator, whether that means the user's keys on Kling, a custom host, or the
offline demo (a simulator started in-process and stopped on close). Jobs left on a simulator that has
stopped can never finish; both front ends close them the same way (`close_stopped_simulator_job`).
"""

from __future__ import annotations

from dataclasses import dataclass

from .core import secrets
from .core.errors import InputError
from .core.jobs import FAILED, Job, JobStore
from .core.kling.auth import Credentials
from .core.kling.client import PollPolicy, resolve_base_url
from .core.kling.connect import build_generator, is_loopback, local_server_gone
from .core.kling.errors import MissingCredentialsError
from .core.kling.generation import KlingGenerator

__all__ = ["GenerationSession", "open_session", "session_on", "start_demo_simulator", "demo_credentials",
           "close_stopped_simulator_job", "SIMULATOR_STOPPED", "SIMULATOR_GONE", "is_loopback", "local_server_gone"]

#: The one error kind of a job closed because the simulator that ran it stopped (CLI and studio alike).
SIMULATOR_STOPPED = "SimulatorStopped"
SIMULATOR_GONE = ("the local Kling simulator that ran this job ({url}) is no longer running, so the job "
                  "cannot finish; generate again")


def _simulator():
    """The simulator package, imported on first use: most commands never start one (and it pulls numpy)."""
    from . import simulator

    return simulator


def demo_credentials() -> Credentials:
    """The public key pair every local simulator accepts."""
    return _simulator().demo_credentials()


def start_demo_simulator(config=None, simulator_seconds: float | None = None):
    """A simulator on 127.0.0.1 for the offline demo; `simulator_seconds` sets how long a video takes."""
    simulator = _simulator()
    if config is None and simulator_seconds is not None:
        config = simulator.SimulatorConfig(submitted_seconds=min(2.0, simulator_seconds / 4),
                                           processing_seconds=simulator_seconds)
    return simulator.start_simulator(config=config)


def close_stopped_simulator_job(store: JobStore, job: Job | int, url: str | None = None) -> str:
    """Mark a job whose simulator has stopped as failed, for good; returns the message recorded."""
    job = store.get(job) if isinstance(job, int) else job
    message = SIMULATOR_GONE.format(url=url or job.base_url)
    store.update(job.id, stage=FAILED, error_kind=SIMULATOR_STOPPED, error_message=message)
    return message


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

    def close_simulator_jobs(self) -> None:
        """An in-process simulator ends with this session: its unfinished jobs can never be resumed."""
        if self.simulator is None:
            return
        for job in self.generator.store.unfinished():
            if job.base_url == self.base_url:
                close_stopped_simulator_job(self.generator.store, job)

    def close(self) -> None:
        self.generator.client.close()
        self.generator.store.close()
        if self.simulator is not None:
            self.simulator.stop()

    def __enter__(self) -> "GenerationSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def session_on(base_url: str, credentials: Credentials, *, poll: PollPolicy | None = None,
               timeout_minutes: float = 30.0, store: JobStore | None = None) -> GenerationSession:
    """A session on a known server (a job's own, or the studio's running demo simulator)."""
    return GenerationSession(build_generator(base_url, credentials, poll=poll, timeout_minutes=timeout_minutes,
                                             store=store))


def open_session(*, region: str | None = None, base_url: str | None = None,
                 credentials: Credentials | None = None, demo: bool | None = False,
                 simulator_seconds: float | None = None, timeout_minutes: float = 30.0,
                 store: JobStore | None = None, simulator_config=None,
                 poll: PollPolicy | None = None) -> GenerationSession:
    """`demo=True` always uses a local simulator; `demo=None` uses one only when no keys are configured
    (the studio's offline demo); `demo=False` needs keys (or a loopback base URL, where the simulator's
    public demo keys are used)."""
    if not timeout_minutes > 0:
        raise InputError(f"the timeout must be above 0 minutes (got {timeout_minutes})")
    sim = None
    if credentials is None and not demo:
        credentials = secrets.load_credentials()
    if demo or (demo is None and credentials is None and not base_url):
        sim = start_demo_simulator(simulator_config, simulator_seconds)
        url, credentials = sim.base_url, demo_credentials()
    else:
        url = resolve_base_url(region, base_url)
        if credentials is None and is_loopback(url):
            credentials = demo_credentials()
        if credentials is None:
            raise MissingCredentialsError(
                "no Kling keys configured: run `navtalk-loop keys set`, or set KLING_ACCESS_KEY and "
                "KLING_SECRET_KEY (or KLING_API_KEY); to try it offline use the local simulator"
            )
    try:
        generator = build_generator(url, credentials, poll=poll, timeout_minutes=timeout_minutes, store=store)
    except Exception:
        if sim is not None:
            sim.stop()
        raise
    return GenerationSession(generator, sim)

