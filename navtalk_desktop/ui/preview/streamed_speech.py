"""Online speech in the preview, streamed: the avatar starts talking while edge-tts is still synthesising.

The chunks arrive on the Qt loop through qasync (ui/async_loop.py); decoding and cue timing run in worker
threads, so painting never waits. The first update starts the player with an open-ended utterance, later
ones extend it in place (core/speech/edge_stream.py). A failure before anything was heard is handed back to
the panel, which falls back to the offline engine.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Callable

from ...core.cancel import CancelToken
from .. import async_loop

log = logging.getLogger(__name__)


class StreamedSpeech:
    """One streamed utterance: started with `start`, ended by `cancel` or by its last chunk."""

    def __init__(self, text: str, voice: str | None, *, on_first: Callable, on_update: Callable,
                 on_failed: Callable[[Exception, bool], None], on_done: Callable[[], None]) -> None:
        self.text, self.voice = text, voice
        self._on_first, self._on_update = on_first, on_update
        self._on_failed, self._on_done = on_failed, on_done
        self._cancel = CancelToken()
        self._task: asyncio.Task | None = None
        self.first_audio_s: float | None = None  # request to first sound, for the status line and the bench
        self.total_s: float | None = None

    def start(self) -> None:
        self._task = async_loop.start(self._run())

    def cancel(self) -> None:
        self._cancel.cancel()
        if self._task is not None and not self._task.done():
            self._task.cancel()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        from ...core.speech.edge_stream import stream_utterances

        started = False
        try:
            async for update in stream_utterances(self.text, self.voice, cancel=self._cancel,
                                                  to_thread=async_loop.run_blocking):
                if self._cancel.cancelled:
                    return
                if not started:
                    started = True
                    self.first_audio_s = update.elapsed
                    self._on_first(update.utterance, update.final)
                else:
                    self._on_update(update.utterance, update.final)
                if update.final:
                    self.total_s = update.elapsed
        except asyncio.CancelledError:
            return
        except Exception as exc:  # noqa: BLE001 - the panel words it (and falls back when nothing was heard)
            if not self._cancel.cancelled:
                self._on_failed(exc, started)
            return
        finally:
            if not self._cancel.cancelled:
                self._on_done()
