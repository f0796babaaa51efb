"""A thread-safe cancel flag shared by long operations (CLI Ctrl+C, UI Cancel button)."""

from __future__ import annotations

import threading

from .errors import CancelledError


class CancelToken:
    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise CancelledError("cancelled")


# A stop the CLI's signal handlers asked for (SIGINT, SIGTERM). They raise it at once, but an exception
# raised while the interpreter runs a weakref callback or a __del__ is printed ("Exception ignored") and
# dropped, and the command would carry on to the end. Remembered here too, it is raised again at the points
# that make an output visible (atomic.atomic_output, the export's sidecar) and after each ffmpeg run.
_stop_requested: tuple[type[BaseException], tuple] | None = None


def note_stop(kind: type[BaseException], *args) -> None:
    """Remember that the process was told to stop (`kind(*args)` is what stopping raises)."""
    global _stop_requested
    _stop_requested = (kind, args)


def clear_stop() -> None:
    global _stop_requested
    _stop_requested = None


def raise_if_stop_requested() -> None:
    """Raise the stop a signal asked for, if one did (even when its first raise was swallowed)."""
    if _stop_requested is not None:
        kind, args = _stop_requested
        raise kind(*args)
