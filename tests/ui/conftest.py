"""UI test fixtures: offscreen Qt, isolated user folders, a real studio window, and a dangling-thread guard."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any Qt import; GL tests run under Xvfb instead

from pathlib import Path

import pytest
from studio_helpers import open_and_wait_for_plan

POOL_IDLE_TIMEOUT_MS = 1000


@pytest.fixture(scope="session")
def shared_cache_dir(tmp_path_factory) -> Path:
    """One landmarks cache for the session: the first analysis of the clip computes, later ones load."""
    return tmp_path_factory.mktemp("navtalk-cache")


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path, monkeypatch, shared_cache_dir):
    """No test reads or writes the real user's settings, jobs, logs or keyring."""
    monkeypatch.setenv("NAVTALK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("NAVTALK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NAVTALK_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("NAVTALK_CACHE_DIR", str(shared_cache_dir))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    for name in ("KLING_ACCESS_KEY", "KLING_SECRET_KEY", "KLING_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture(autouse=True)
def no_dangling_threads(request):
    """Fail a test that leaves work running on the global thread pool (napari's guard, simplified)."""
    yield
    if "qapp" not in request.fixturenames and "qtbot" not in request.fixturenames:
        return
    from PySide6.QtCore import QThreadPool

    pool = QThreadPool.globalInstance()
    pool.waitForDone(POOL_IDLE_TIMEOUT_MS)
    busy = pool.activeThreadCount()
    if busy:
        pool.waitForDone(60000)  # don't let the leak spill into the next test
    assert busy == 0, f"{busy} thread-pool task(s) still running after the test"


@pytest.fixture(autouse=True)
def no_dangling_coroutines():
    """Coroutines a test started on the qasync loop end with it (the app cancels them when it quits)."""
    yield
    import sys

    if "navtalk_desktop.ui.async_loop" in sys.modules:
        sys.modules["navtalk_desktop.ui.async_loop"].cancel_all()


@pytest.fixture
def make_window(qtbot):
    """Build studio windows that are closed (and their tasks stopped) at teardown."""
    from navtalk_desktop.core.settings import Settings
    from navtalk_desktop.ui.main_window import MainWindow

    windows = []

    def make(settings: Settings | None = None):
        window = MainWindow(settings if settings is not None else Settings())
        window.ask_to_save = lambda: True
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.ask_to_save = lambda: True
        window.close()


@pytest.fixture
def window(make_window):
    return make_window()


@pytest.fixture
def analysed_window(qtbot, window):
    open_and_wait_for_plan(qtbot, window)
    qtbot.waitUntil(lambda: window.loop.preview is not None, timeout=30000)
    return window
