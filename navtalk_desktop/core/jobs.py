"""Durable Kling job store (SQLite): a generation survives crashes, kills and restarts.

A job row is written before the create request (with its external_task_id), then updated the moment the
task_id arrives and on every status change, so a restarted app can always pick up where it stopped. The
store never holds a key or token: columns are a fixed whitelist and error text is redacted.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from dataclasses import dataclass, fields
from pathlib import Path


from .app_paths import data_dir
from .errors import InputError, NavTalkError
from .logs import redact

SCHEMA_VERSION = 1
DB_NAME = "jobs.sqlite3"

#: Pipeline stages. Resumable: creating, polling, downloading. Final: done, failed.
CREATING, POLLING, DOWNLOADING, DONE, FAILED = "creating", "polling", "downloading", "done", "failed"
RESUMABLE_STAGES = (CREATING, POLLING, DOWNLOADING)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    stage TEXT NOT NULL,
    external_task_id TEXT NOT NULL UNIQUE,
    task_id TEXT,
    base_url TEXT NOT NULL,
    model TEXT NOT NULL,
    mode TEXT NOT NULL,
    duration TEXT NOT NULL,
    prompt TEXT NOT NULL DEFAULT '',
    negative_prompt TEXT NOT NULL DEFAULT '',
    cfg_scale REAL,
    loop_tail INTEGER NOT NULL DEFAULT 0,
    source_image TEXT NOT NULL,
    upload_image TEXT NOT NULL,
    image_sha256 TEXT NOT NULL,
    image_changes TEXT NOT NULL DEFAULT '',
    create_attempts INTEGER NOT NULL DEFAULT 0,
    task_status TEXT,
    task_status_msg TEXT,
    video_url TEXT,
    video_duration TEXT,
    local_path TEXT,
    output_path TEXT,
    bytes_done INTEGER NOT NULL DEFAULT 0,
    bytes_total INTEGER,
    error_kind TEXT,
    error_message TEXT
);
CREATE INDEX IF NOT EXISTS jobs_stage ON jobs(stage);
"""


@dataclass(frozen=True)
class Job:
    id: int
    created_at: float
    updated_at: float
    stage: str
    external_task_id: str
    task_id: str | None
    base_url: str
    model: str
    mode: str
    duration: str
    prompt: str
    negative_prompt: str
    cfg_scale: float | None
    loop_tail: bool
    source_image: str
    upload_image: str
    image_sha256: str
    image_changes: str
    create_attempts: int
    task_status: str | None
    task_status_msg: str | None
    video_url: str | None
    video_duration: str | None
    local_path: str | None
    output_path: str | None
    bytes_done: int
    bytes_total: int | None
    error_kind: str | None
    error_message: str | None

    @property
    def resumable(self) -> bool:
        return self.stage in RESUMABLE_STAGES

    @property
    def job_dir(self) -> Path:
        return Path(self.upload_image).parent


_COLUMNS = tuple(f.name for f in fields(Job))
_WRITABLE = frozenset(_COLUMNS) - {"id", "created_at"}


OPEN_TIMEOUT_S = 10.0  # how long a connection waits for another process's lock


def _use_wal(db: sqlite3.Connection, timeout: float) -> None:
    """Switch `db` to write-ahead logging, waiting up to `timeout` for other processes. The switch needs the
    database to itself, and SQLite answers "database is locked" at once, without its busy timeout, when
    another connection holds it at that moment: four processes opening a fresh database together lost one
    switch in ~150 (tests/test_jobs_store.py). So it is retried."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            contended = "locked" in str(exc) or "busy" in str(exc)
            if not contended or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


class JobStore:
    """Thread-safe: one connection guarded by a lock (the UI calls it from worker threads)."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path else data_dir() / DB_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=OPEN_TIMEOUT_S,
                                       isolation_level=None)
            self._db.row_factory = sqlite3.Row
            _use_wal(self._db, OPEN_TIMEOUT_S)
            self._db.execute("PRAGMA synchronous=FULL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise NavTalkError(f"the job database {self.path} cannot be opened: {exc}") from None

    def _migrate(self) -> None:
        with self._lock:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise NavTalkError(
                    f"the job database {self.path} was written by a newer NavTalk (schema {version}); "
                    f"update the app"
                )
            if version == 0:
                # BEGIN IMMEDIATE takes the write lock first, so two processes opening a fresh database at
                # once cannot both create the schema; the loser re-reads the version and finds it done.
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    if self._db.execute("PRAGMA user_version").fetchone()[0] == 0:
                        # Statement by statement: executescript() would COMMIT the open transaction.
                        for statement in filter(str.strip, _SCHEMA.split(";")):
                            self._db.execute(statement)
                        self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def jobs_dir(self) -> Path:
        path = self.path.parent / "jobs"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @staticmethod
    def _row(row: sqlite3.Row | None) -> Job | None:
        if row is None:
            return None
        values = dict(row)
        values["loop_tail"] = bool(values["loop_tail"])
        return Job(**values)

    @staticmethod
    def _clean(values: dict) -> dict:
        unknown = set(values) - _WRITABLE
        if unknown:
            raise ValueError(f"not job columns: {sorted(unknown)}")
        for key in ("error_message", "task_status_msg"):
            if values.get(key):
                values[key] = redact(str(values[key]))
        return values

    def create(self, **values) -> Job:
        now = time.time()
        values = self._clean({"stage": CREATING, "updated_at": now, **values})
        values["created_at"] = now
        values["loop_tail"] = int(bool(values.get("loop_tail")))
        cols = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self._lock:
            cur = self._db.execute(f"INSERT INTO jobs ({cols}) VALUES ({marks})", tuple(values.values()))
            return self.get(cur.lastrowid)

    def update(self, job_id: int, **values) -> Job:
        values = self._clean({**values, "updated_at": time.time()})
        if "loop_tail" in values:
            values["loop_tail"] = int(bool(values["loop_tail"]))
        sets = ", ".join(f"{k} = ?" for k in values)
        with self._lock:
            self._db.execute(f"UPDATE jobs SET {sets} WHERE id = ?", (*values.values(), job_id))
            return self.get(job_id)

    def get(self, job_id: int) -> Job:
        with self._lock:
            job = self._row(self._db.execute("SELECT * FROM jobs WHERE id = ?", (int(job_id),)).fetchone())
        if job is None:
            raise InputError(f"no job with id {job_id} (see `navtalk-loop jobs`)")
        return job

    def list(self, limit: int | None = None) -> list[Job]:
        sql = "SELECT * FROM jobs ORDER BY id DESC" + (f" LIMIT {int(limit)}" if limit else "")
        with self._lock:
            return [self._row(r) for r in self._db.execute(sql).fetchall()]

    def unfinished(self) -> list[Job]:
        marks = ", ".join("?" for _ in RESUMABLE_STAGES)
        with self._lock:
            rows = self._db.execute(f"SELECT * FROM jobs WHERE stage IN ({marks}) ORDER BY id",
                                    RESUMABLE_STAGES).fetchall()
        return [self._row(r) for r in rows]

    def find_unfinished_like(self, **match) -> Job | None:
        """The newest unfinished job with exactly these parameters (so re-running a command resumes it)."""
        for job in reversed(self.unfinished()):
            if all(getattr(job, k) == v for k, v in match.items()):
                return job
        return None

    def forget(self, job_id: int) -> Job:
        """Delete the row and the job's working files (upload copy, partial and kept download)."""
        job = self.get(job_id)
        with self._lock:
            self._db.execute("DELETE FROM jobs WHERE id = ?", (job.id,))
        job_dir = job.job_dir
        if job_dir.is_dir() and job_dir.parent == self.jobs_dir():
            shutil.rmtree(job_dir, ignore_errors=True)
        return job
