"""Online speech in the preview, streamed: the avatar starts talking while edge-tts is still synthesising.

The chunks arrive on the Qt loop through qasync (ui/async_loop.py); decoding and cue timing run in worker
threads, so painting never waits. The first update starts the player with an open-ended utterance, later
ones extend it in place (core/speech/edge_stream.py). A network failure before anything was heard falls
back to the offline engine.

A stream is not a pool task, yet it takes the panel's speech lane of the TaskRunner (`TaskRunner.claim`)
like one: a newer Speak, or Stop, supersedes it, and the runner drops whatever it still delivers.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Callable

from PySide6.QtCore import QTimer

from .. import async_loop
from ..tasks import TaskError, TaskHandle, TaskRunner
from ..tasks import SPEECH_LANE

log = logging.getLogger(__name__)


class StreamedSpeech:
    """One streamed utterance: started in a lane with `start`, ended by `cancel`, a newer task or its last chunk."""

    def __init__(self, text: str, voice: str | None, *, on_first: Callable, on_update: Callable,
                 on_failed: Callable[[Exception, bool], None], on_done: Callable[[], None]) -> None:
        self.text, self.voice = text, voice
        self._on_first, self._on_update = on_first, on_update
        self._on_failed, self._on_done = on_failed, on_done
        self._runner: TaskRunner | None = None
        self._handle: TaskHandle | None = None
        self._task: asyncio.Task | None = None
        self.first_audio_s: float | None = None  # request to first sound, for the status line and the bench
        self.total_s: float | None = None

    def start(self, runner: TaskRunner, lane: str = SPEECH_LANE) -> None:
        self._runner = runner
        self._handle = runner.claim(lane, "preview-speech-stream", on_cancel=self._stop_task)
        if not self._handle.superseded:  # a runner that has shut down starts nothing
            self._task = async_loop.start(self._run())

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()

    def _stop_task(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        from ...core.speech.edge_stream import stream_utterances

        handle = self._handle
        cancel = handle.cancel_token
        started = False
        try:
            async for update in stream_utterances(self.text, self.voice, cancel=cancel,
                                                  to_thread=async_loop.run_blocking):
                if cancel.cancelled:
                    return
                if not started:
                    started = True
                    self.first_audio_s = update.elapsed
                    handle.current(self._on_first)(update.utterance, update.final)
                else:
                    handle.current(self._on_update)(update.utterance, update.final)
                if update.final:
                    self.total_s = update.elapsed
        except asyncio.CancelledError:
            return
        except Exception as exc:  # noqa: BLE001 - the panel words it (and falls back when nothing was heard)
            if not cancel.cancelled:
                handle.current(self._on_failed)(exc, started)
            return
        finally:
            self._runner.release(handle)
            if not cancel.cancelled:
                self._on_done()


def speak_online(panel, text: str, voice: str | None) -> StreamedSpeech:
    """Stream `text` into the preview panel's player, in its speech lane; offline if the service is unreachable."""
    def failed(exc: Exception, heard: bool) -> None:
        from ...core.speech.edge_engine import TtsNetworkError

        if isinstance(exc, TtsNetworkError) and not heard:  # nothing heard yet: say it offline instead
            panel.speak_offline(text, "espeak", panel.voices.voice_for("espeak"),
                                f"online voices unavailable ({exc}); spoken with espeak-ng offline instead")
            return
        panel.speech_failed(TaskError.from_exception(exc))

    stream = StreamedSpeech(text, voice, on_first=lambda u, final: panel.start_utterance(u, open_ended=not final),
                            on_update=lambda u, final: panel.player.extend_speech(u, final=final),
                            on_failed=failed, on_done=lambda: QTimer.singleShot(0, panel.update_buttons))
    stream.start(panel.runner, SPEECH_LANE)
    return stream
