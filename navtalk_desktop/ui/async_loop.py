"""The one place asyncio meets the Qt event loop: a qasync loop that runs coroutines on the GUI thread.

Blocking work stays on QThreadPool workers (ui/tasks/). A coroutine belongs here only when a stream must
reach the window while it arrives: edge-tts sends speech in chunks, and playing the first chunks while the
rest is synthesised needs each chunk on the GUI thread as it comes (docs/design-notes.md#concurrency-model).
The loop is created on first use over the already running QApplication (so a window that never streams
never pays for it) and lives as long as the application; what still runs is cancelled when it quits.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from collections.abc import Coroutine

from PySide6.QtCore import QCoreApplication, QEventLoop
from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)

_loop: asyncio.AbstractEventLoop | None = None
# Blocking steps of coroutines (decoding, cue timing, name lookups) run here: plain Python threads, which end
# with the interpreter (qasync's default executor uses QThreads, which abort the process if alive at exit).
_blocking = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="navtalk-async")


def event_loop() -> asyncio.AbstractEventLoop:
    """The application's qasync loop (created over the running Qt loop on first use)."""
    global _loop
    if _loop is None or _loop.is_closed():
        import qasync

        app = QApplication.instance()
        if app is None:
            raise RuntimeError("no QApplication: the asyncio bridge runs on the Qt event loop")
        _loop = qasync.QEventLoop(app, already_running=True)
        _loop.set_default_executor(_blocking)  # also for aiohttp's name lookups (getaddrinfo)
        app.aboutToQuit.connect(cancel_all)
    return _loop


def start(coroutine: Coroutine) -> asyncio.Task:
    """Run `coroutine` on the Qt loop; its exceptions are logged (the caller handles expected ones)."""
    task = event_loop().create_task(coroutine)
    task.add_done_callback(_log_unexpected)
    return task


async def run_blocking(fn, *args):
    """Await `fn(*args)` run in a worker thread, so the GUI thread keeps painting meanwhile."""
    return await asyncio.get_running_loop().run_in_executor(_blocking, fn, *args)


def _log_unexpected(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background coroutine failed", exc_info=task.exception())


def cancel_all(timeout_s: float = 3.0) -> None:
    """Cancel every coroutine still running and let the cancellations unwind (sockets close).

    The loop itself lives as long as the QApplication: qasync's stop() would quit the application, and a
    loop closed under a running Qt loop leaves Qt objects behind that can still receive events.
    """
    loop = _loop
    if loop is None or loop.is_closed():
        return
    tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in tasks:
        task.cancel()
    deadline = time.monotonic() + timeout_s
    while any(not task.done() for task in tasks) and time.monotonic() < deadline:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)  # the loop runs on Qt's
