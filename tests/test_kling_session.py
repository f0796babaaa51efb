"""The one Kling session builder (navtalk_desktop/kling_session.py): one loopback predicate, one error kind
for jobs closed on a stopped simulator, and core kept free of the simulator it composes with."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from kling_helpers import isolated_dirs  # noqa: F401
from navtalk_desktop.core.jobs import FAILED, JobStore
from navtalk_desktop.core.kling.connect import is_loopback
from navtalk_desktop.kling_session import (SIMULATOR_GONE, SIMULATOR_STOPPED, close_stopped_simulator_job,
                                           open_session)

PACKAGE = Path(__file__).resolve().parents[1] / "navtalk_desktop"


def _imports(path: Path) -> set[str]:
    """Absolute module names a file imports (relative imports resolved against its package)."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module.removesuffix(".__init__")
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def job_values(base_url: str) -> dict:
    """The columns of an unfinished job made on `base_url` (no request was ever sent for it)."""
    return dict(external_task_id=f"navtalk-{abs(hash(base_url))}", base_url=base_url, model="kling-v3",
                mode="std", duration="3", source_image="/nowhere/p.png", upload_image="/nowhere/u.png",
                image_sha256="0" * 64)


def test_core_never_imports_the_simulator_ui_or_cli():
    offenders = {}
    for path in (PACKAGE / "core").rglob("*.py"):
        bad = {n for n in _imports(path)
               if n.split(".")[:2] in (["navtalk_desktop", "simulator"], ["navtalk_desktop", "ui"],
                                       ["navtalk_desktop", "cli"])}
        if bad:
            offenders[str(path.relative_to(PACKAGE))] = sorted(bad)
    assert offenders == {}


@pytest.mark.parametrize("url,loopback", [
    ("http://127.0.0.1:8000", True), ("http://127.0.0.2:8000", True), ("http://127.255.255.254", True),
    ("http://localhost:1", True), ("http://LOCALHOST:1", True), ("http://[::1]:8000", True),
    ("https://api-singapore.klingai.com", False), ("http://128.0.0.1", False), ("http://10.0.0.1", False),
    ("http://localhost.example.com", False), ("", False),
])
def test_one_loopback_predicate(url, loopback):
    assert is_loopback(url) is loopback


def test_no_other_loopback_test_in_the_package():
    """`is_loopback_host` in core/kling/client.py is the only code that decides what loopback is."""
    users = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                   if ".is_loopback" in p.read_text(encoding="utf-8") or '"::1"' in p.read_text(encoding="utf-8"))
    assert users == ["core/kling/client.py"]


def test_a_job_on_a_stopped_simulator_is_closed_with_the_one_error_kind(isolated_dirs):
    store = JobStore()
    job = store.create(**job_values("http://127.0.0.2:5"))
    message = close_stopped_simulator_job(store, job)
    closed = store.get(job.id)
    assert closed.stage == FAILED and not closed.resumable and closed.error_kind == SIMULATOR_STOPPED
    assert closed.error_message == message == SIMULATOR_GONE.format(url="http://127.0.0.2:5")
    store.close()


def test_open_session_refuses_a_timeout_that_is_not_positive(isolated_dirs):
    from navtalk_desktop.core.errors import InputError

    with pytest.raises(InputError, match="above 0 minutes"):
        open_session(demo=True, timeout_minutes=-1)
