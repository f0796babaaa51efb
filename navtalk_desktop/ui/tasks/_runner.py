"""Background work on QThreadPool: progress, cancellation and errors arrive as signals on the GUI thread.

The signals object of every task is created and kept alive by the GUI side (`TaskRunner`) until the task
has finished; a runnable that owns its own signals crashes under load (docs/design-notes.md#qt-workers). A task
function receives a `TaskContext` to report progress and poll for cancellation, and never touches widgets.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from ...core.cancel import CancelToken
from ...core.errors import CancelledError, NavTalkError

log = logging.getLogger(__name__)

#: Progress updates closer together than this are dropped (the last one always goes through).
PROGRESS_INTERVAL_S = 0.05


@dataclass
class TaskError:
    """What went wrong in a task, ready to show: `message` for people, `details` for the log."""

    message: str
    details: str
    expected: bool  # a NavTalkError (bad input, ffmpeg failure...) rather than a bug
    exception: BaseException | None = None
    retryable: bool = False  # a transient failure (network, server busy): trying again may succeed

    @classmethod
    def from_exception(cls, exc: BaseException) -> "TaskError":
        """The one rule for every failure: a NavTalkError is expected and says itself; anything else is a bug."""
        details = "".join(traceback.format_exception(exc))
        retryable = bool(getattr(exc, "retryable", False))
        if isinstance(exc, NavTalkError):
            from ..error_words import worded

            return cls(worded(exc), details, True, exc, retryable)
        return cls(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, details, False, exc,
                   retryable)


class TaskSignals(QObject):
    """Signals of one task. Lives on the GUI thread; emitted from the pool thread (queued delivery)."""

    started = Signal()
    progress_changed = Signal(float, str)  # fraction 0..1 (or -1 when unknown), status text
    reported = Signal(object)  # a structured progress object (e.g. core GenerationProgress)
    succeeded = Signal(object)  # the task function's return value
    failed = Signal(object)  # TaskError
    cancelled = Signal()
    finished = Signal()  # always last, after succeeded/failed/cancelled


class TaskContext:
    """Handed to a task function: report progress, check for Cancel."""

    def __init__(self, signals: TaskSignals, cancel: CancelToken) -> None:
        self._signals = signals
        self.cancel = cancel
        self._last_emit = 0.0
        self._last_text = ""
        self._last_key: Any = object()
        self._last_report = 0.0

    @property
    def cancelled(self) -> bool:
        return self.cancel.cancelled

    def raise_if_cancelled(self) -> None:
        self.cancel.raise_if_cancelled()

    def progress(self, fraction: float, text: str | None = None) -> None:
        """Report progress; throttled so a fast loop does not flood the GUI thread."""
        if text is None:
            text = self._last_text
        now = time.monotonic()
        final = fraction >= 1.0
        if not final and text == self._last_text and now - self._last_emit < PROGRESS_INTERVAL_S:
            return
        self._last_emit, self._last_text = now, text
        self._signals.progress_changed.emit(float(fraction), text)

    def report(self, item: Any, key: Any = None) -> None:
        """Send a structured progress object; throttled unless `key` (e.g. a stage name) changed."""
        now = time.monotonic()
        if key == self._last_key and now - self._last_report < PROGRESS_INTERVAL_S:
            return
        self._last_key, self._last_report = key, now
        self._signals.reported.emit(item)


class _Runnable(QRunnable):
    def __init__(self, fn: Callable[[TaskContext], Any], handle: "TaskHandle") -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._fn = fn
        self._handle = handle  # its signals are owned by the TaskRunner on the GUI thread

    def run(self) -> None:  # pool thread
        handle, self._handle = self._handle, None
        try:
            self._run(handle)
        except RuntimeError as exc:  # the signals object is gone: its window was destroyed without shutdown()
            log.warning("task %s finished after its window was destroyed: %s", handle.name, exc)
        finally:
            # From here on this thread holds no reference to the signals: the GUI thread may delete them.
            self._fn = None
            handle.exited.set()

    def _run(self, handle: "TaskHandle") -> None:
        signals, cancel = handle.signals, handle.cancel_token
        ctx = TaskContext(signals, cancel)
        try:
            signals.started.emit()
            if cancel.cancelled:
                raise CancelledError("cancelled")
            result = self._fn(ctx)
            if cancel.cancelled:
                raise CancelledError("cancelled")
        except CancelledError:
            signals.cancelled.emit()
        except BaseException as exc:  # noqa: BLE001 - a bug must reach the user, not kill the thread
            error = TaskError.from_exception(exc)
            if not error.expected:
                log.exception("task %s crashed", handle.name)
            signals.failed.emit(error)
        else:
            signals.succeeded.emit(result)
        finally:
            ctx._signals = None
            signals.finished.emit()


class TaskHandle:
    """A task: its signals (to connect to), its cancel switch, and whether its thread has let go.

    A handle from `TaskRunner.claim` has no signals: it stands for work outside the pool in a lane.
    """

    def __init__(self, name: str, signals: TaskSignals | None, cancel: CancelToken,
                 on_cancel: Callable[[], None] | None = None) -> None:
        self.name = name
        self.signals = signals
        self.cancel_token = cancel
        self.done = False  # `finished` has been delivered on the GUI thread
        self.superseded = False  # a newer task took its lane: its late results are dropped
        self.exited = threading.Event()  # the pool thread no longer touches the signals
        self._on_cancel = on_cancel

    def cancel(self) -> None:
        self.cancel_token.cancel()
        if self._on_cancel is not None:
            self._on_cancel()

    def current(self, callback: Callable[..., Any]) -> Callable[..., None]:
        """`callback`, unless this task has been superseded by then: a stale result is dropped."""
        return lambda *args: None if self.superseded else callback(*args)

    @property
    def running(self) -> bool:
        return not self.done


class TaskRunner(QObject):
    """Starts tasks on a thread pool and owns their signals until each one has finished.

    A finished task's signals object is deleted on the GUI thread, and only once its pool thread has
    set `exited`; before that it is parked in `_retired` (deleting it while the worker is still inside
    `emit` is the crash this design exists to avoid).
    """

    busy_changed = Signal(bool)  # True while any task runs

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self._pool = pool or QThreadPool.globalInstance()
        self._tasks: set[TaskHandle] = set()
        self._retired: list[TaskHandle] = []
        self._lanes: dict[str, TaskHandle] = {}  # the current task of each lane
        self._accepting = True

    def start(self, name: str, fn: Callable[[TaskContext], Any], *,
              on_success: Callable[[Any], None] | None = None,
              on_failure: Callable[[TaskError], None] | None = None,
              on_progress: Callable[[float, str], None] | None = None,
              on_cancelled: Callable[[], None] | None = None,
              on_finished: Callable[[], None] | None = None,
              on_report: Callable[[Any], None] | None = None,
              lane: str | None = None) -> TaskHandle:
        """Run `fn(ctx)` in the pool; the callbacks run on the GUI thread.

        A task started in a `lane` supersedes the lane's previous task: that one is cancelled and its late
        progress, result, failure or cancellation never reach its callbacks (`on_finished` still runs).
        """
        self._purge()
        if lane is not None:
            self.supersede(lane)
        signals = TaskSignals(self)
        cancel = CancelToken()
        handle = TaskHandle(name, signals, cancel)
        if not self._accepting:  # shutting down: late timers or queued results must not start new work
            log.debug("not starting task %s: the runner has shut down", name)
            handle.done = True
            handle.exited.set()
            cancel.cancel()
            self._retired.append(handle)
            return handle
        if lane is not None:
            self._lanes[lane] = handle
        for signal, callback in ((signals.progress_changed, on_progress), (signals.reported, on_report),
                                 (signals.succeeded, on_success), (signals.failed, on_failure),
                                 (signals.cancelled, on_cancelled)):
            if callback:
                signal.connect(handle.current(callback))  # a superseded task's results are stale: dropped
        if on_finished:
            signals.finished.connect(on_finished)
        signals.finished.connect(lambda h=handle: self._finished(h))
        was_busy = bool(self._tasks)
        self._tasks.add(handle)
        if not was_busy:
            self.busy_changed.emit(True)
        self._pool.start(_Runnable(fn, handle))
        return handle

    def claim(self, lane: str, name: str, on_cancel: Callable[[], None] | None = None) -> TaskHandle:
        """Put work that does not run on the pool (a coroutine on the Qt loop) in `lane`, as `start` would.

        A newer task in the lane, or `supersede`, cancels the handle's token and calls `on_cancel`; what the
        work delivers through `handle.current(callback)` after that is dropped. `release` ends the claim.
        """
        self.supersede(lane)
        handle = TaskHandle(name, None, CancelToken(), on_cancel)
        handle.exited.set()  # no pool thread holds it
        if not self._accepting:
            handle.superseded = True
            handle.cancel_token.cancel()
            return handle
        self._lanes[lane] = handle
        return handle

    def release(self, handle: TaskHandle) -> None:
        """Claimed work has ended: its lane is free (a later `supersede` no longer cancels it)."""
        handle.done = True
        for lane, current in list(self._lanes.items()):
            if current is handle:
                del self._lanes[lane]

    def supersede(self, lane: str) -> None:
        """Cancel the lane's current task and drop whatever it still delivers (Stop, a new source...)."""
        handle = self._lanes.pop(lane, None)
        if handle is not None:
            handle.superseded = True
            handle.cancel()

    def _finished(self, handle: TaskHandle) -> None:
        handle.done = True
        self._tasks.discard(handle)
        for lane, current in list(self._lanes.items()):
            if current is handle:
                del self._lanes[lane]
        self._retired.append(handle)
        self._purge()
        if not self._tasks:
            self.busy_changed.emit(False)

    def _purge(self) -> None:
        """Delete the signals of tasks whose threads have exited (GUI thread only)."""
        keep = []
        for handle in self._retired:
            if handle.exited.is_set():
                handle.signals.setParent(None)
                shiboken6.delete(handle.signals)
            else:
                keep.append(handle)
        self._retired = keep

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    def running(self, name: str | None = None) -> list[TaskHandle]:
        return [t for t in self._tasks if name is None or t.name == name]

    def cancel_all(self) -> None:
        for handle in list(self._tasks):
            handle.cancel()

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Cancel everything, refuse new tasks and wait for the pool threads to return (window closing)."""
        self._accepting = False
        self.cancel_all()
        done = self._pool.waitForDone(timeout_ms)
        self._purge()
        if not done:
            log.warning("background tasks still running after %d ms: %s", timeout_ms,
                        ", ".join(t.name for t in self._tasks))
        return done
