"""The SQLite job store: where it lives, its schema version, what it keeps and what it never keeps."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from kling_helpers import isolated_dirs  # noqa: F401
from navtalk_desktop.core.errors import InputError, NavTalkError
from navtalk_desktop.core.jobs import DB_NAME, SCHEMA_VERSION, JobStore, data_dir
from navtalk_desktop.core.logs import register_secret


def _job(store, **kw):
    values = dict(external_task_id="navtalk-1", base_url="http://127.0.0.1:1", model="kling-v3", mode="std",
                  duration="3", source_image="/x/face.png", upload_image=str(store.jobs_dir() / "navtalk-1" / "u.png"),
                  image_sha256="abc")
    values.update(kw)
    return store.create(**values)


def test_lives_in_the_data_dir_override(isolated_dirs):
    store = JobStore()
    assert store.path == isolated_dirs / "data" / DB_NAME and store.path.exists()
    assert data_dir() == isolated_dirs / "data"


def test_schema_is_versioned(isolated_dirs):
    store = JobStore()
    store.close()
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(NavTalkError, match="written by a newer NavTalk"):
        JobStore()


def test_corrupt_database_gets_a_clear_message(isolated_dirs):
    path = isolated_dirs / "data" / DB_NAME
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(NavTalkError, match="job database .* cannot be opened"):
        JobStore()


def test_create_update_list_unfinished_forget(isolated_dirs):
    store = JobStore()
    job = _job(store)
    assert job.stage == "creating" and job.resumable and job.task_id is None and not job.loop_tail
    job = store.update(job.id, task_id="123", stage="polling", task_status="submitted")
    assert job.task_id == "123" and job.updated_at >= job.created_at
    other = _job(store, external_task_id="navtalk-2", loop_tail=True)
    store.update(other.id, stage="done")
    assert [j.id for j in store.list()] == [other.id, job.id]  # newest first
    assert [j.id for j in store.unfinished()] == [job.id]
    assert store.find_unfinished_like(model="kling-v3", image_sha256="abc").id == job.id
    assert store.find_unfinished_like(model="kling-v1") is None
    job.job_dir.mkdir(parents=True)
    (job.job_dir / "u.png").write_bytes(b"x")
    store.forget(job.id)
    assert not job.job_dir.exists()
    with pytest.raises(InputError, match=f"no job with id {job.id}"):
        store.get(job.id)
    with pytest.raises(sqlite3.IntegrityError):  # the external id is unique: it is the idempotency key
        _job(store, external_task_id="navtalk-2")


def test_only_known_columns_and_redacted_errors(isolated_dirs):
    store = JobStore()
    job = _job(store)
    with pytest.raises(ValueError, match="not job columns"):
        store.update(job.id, api_key="nope")
    register_secret("super-secret-value-123")
    job = store.update(job.id, error_message="failed with super-secret-value-123 and Bearer eyJabc.def.ghi")
    assert "super-secret-value-123" not in job.error_message and "eyJabc" not in job.error_message
    raw = store.path.read_bytes() + (store.path.with_name(DB_NAME + "-wal").read_bytes()
                                     if store.path.with_name(DB_NAME + "-wal").exists() else b"")
    assert b"super-secret-value-123" not in raw


def test_survives_concurrent_writers(isolated_dirs):
    store = JobStore()
    job = _job(store)

    def bump(n):
        for i in range(50):
            store.update(job.id, bytes_done=n * 1000 + i)

    threads = [threading.Thread(target=bump, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.get(job.id).bytes_done % 1000 == 49


def test_two_processes_opening_a_fresh_database_at_once(tmp_path):
    """Both create the schema race-free: BEGIN IMMEDIATE, then re-check the version."""
    import subprocess
    import sys

    db = tmp_path / "race" / "jobs.sqlite3"
    db.parent.mkdir()
    code = ("import sys; from navtalk_desktop.core.jobs import JobStore; "
            "s = JobStore(sys.argv[1]); print(len(s.list()))")
    for _ in range(5):
        if db.exists():
            db.unlink()
        procs = [subprocess.Popen([sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(4)]
        results = [p.communicate(timeout=60) for p in procs]
        assert all(p.returncode == 0 for p in procs), [r[1][-500:] for r in results]
        assert all(r[0].strip() == "0" for r in results)


def test_opening_while_another_connection_holds_the_write_lock_waits_for_it(tmp_path):
    """Switching to WAL while another connection holds the write lock fails at once in SQLite, without the
    busy timeout (the race the test above loses about once in 150 opens): the store waits for the lock."""
    db = tmp_path / "jobs.sqlite3"
    other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    other.execute("CREATE TABLE elsewhere (x)")
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO elsewhere VALUES (1)")
    release = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    release.start()
    try:
        store = JobStore(db)
    finally:
        release.join()
        other.close()
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.list() == []
