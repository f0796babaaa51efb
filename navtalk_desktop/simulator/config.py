"""Simulator settings: timings, accepted keys, limits and per-run fault injection."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields
from pathlib import Path

#: Public, well-known demo keys: the offline demo and `--simulator` use them. They unlock nothing real.
DEMO_ACCESS_KEY = "navtalk-simulator-ak"
DEMO_SECRET_KEY = "navtalk-simulator-sk-not-a-secret"


@dataclass
class Faults:
    """Counters are "the next N times"; each use decrements, so a fault can be survived by retrying."""

    server_errors: int = 0  # API answers 500/5000, 503/5001, 504/5002 in turn
    rate_limits: int = 0  # creates answered 429/1302
    lost_create_answers: int = 0  # create registered, then the connection closes with no answer
    slow_answers: int = 0  # API answers delayed by slow_seconds
    slow_seconds: float = 2.0
    dropped_downloads: int = 0  # video downloads cut after drop_fraction of the bytes
    drop_fraction: float = 0.5
    truncated_downloads: int = 0  # video downloads that end cleanly but early (a short, damaged file)
    truncate_fraction: float = 0.6
    never_finish: bool = False  # tasks stay "processing" forever
    forget_tasks: bool = False  # task queries answer 404/1203 "task not found" (a server that lost them)
    create_answer_delay: float = 0.0  # seconds between registering a task and answering
    download_bytes_per_second: float | None = None  # throttle video downloads

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def take(self, name: str) -> bool:
        """Use one occurrence of a counted fault; True if it fires now."""
        with self._lock:
            left = getattr(self, name)
            if left > 0:
                setattr(self, name, left - 1)
                return True
            return False

    def set(self, **values) -> None:
        names = {f.name for f in fields(self)}
        with self._lock:
            for key, value in values.items():
                if key not in names:
                    raise ValueError(f"unknown fault {key!r}; known: {', '.join(sorted(names))}")
                setattr(self, key, value)


@dataclass
class SimulatorConfig:
    host: str = "127.0.0.1"
    #: access key -> secret key accepted for JWT auth
    keypairs: dict[str, str] = field(default_factory=lambda: {DEMO_ACCESS_KEY: DEMO_SECRET_KEY}, repr=False)
    #: static API keys accepted as Bearer values
    api_keys: tuple[str, ...] = field(default=(), repr=False)
    submitted_seconds: float = 2.0  # real: ~9 s
    processing_seconds: float = 8.0  # real: ~2-4 min
    invalid_image_fail_seconds: float = 1.5  # real: ~1.6 s
    max_concurrent: int = 5
    video_max_side: int = 720  # rendered size cap (Kling: 720p/1080p); small in tests
    render_cache_dir: Path | None = None
    #: Kling documents GET …/image2video/{external_task_id}; whether it works is unconfirmed. False emulates
    #: a server that only answers the query form (?external_task_id=), to test a liberal client.
    external_id_in_path: bool = True
    faults: Faults = field(default_factory=Faults)


def parse_fault(text: str) -> dict:
    """`name=value` from the command line (dashes allowed): `server-errors=2`, `never-finish`."""
    name, _, value = text.partition("=")
    name = name.strip().replace("-", "_")
    defaults = {f.name: f.default for f in fields(Faults)}
    if name not in defaults:
        raise ValueError(f"unknown fault {name!r}; known: {', '.join(sorted(defaults))}")
    default = defaults[name]
    if isinstance(default, bool):
        return {name: value.strip().lower() not in ("0", "false", "no", "off") if value else True}
    if not value:
        raise ValueError(f"fault {name} needs a value, e.g. {name.replace('_', '-')}=1")
    return {name: int(value) if isinstance(default, int) else float(value)}
