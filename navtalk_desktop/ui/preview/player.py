"""Loop playback for the live preview: which loop frame to show now, and which mouth pose to draw on it.

The loop position comes from a monotonic clock anchored at play/seek (frame = elapsed * fps, modulo the
frame count), so it runs at the source rate, wraps with no hitch and never drifts. The timer is
re-armed for just after the next frame boundary on every tick instead of repeating, so timer jitter
cannot pile up. While speaking, the mouth pose of each shown frame comes from the `LipSyncSession`,
whose clock is the audio device's (or a monotonic stand-in without one).
"""

from __future__ import annotations

import logging
import math
import time
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal

from ...core.mouth.params import REST, MouthParams

log = logging.getLogger(__name__)

WAKE_AFTER_BOUNDARY_S = 0.001  # tick just after a frame starts, so rounding never shows the old one


class LoopPlayer(QObject):
    frame_changed = Signal(int, int)  # frame index, frame count
    playing_changed = Signal(bool)  # loop playback running
    viseme_changed = Signal(str)  # dominant viseme of the shown frame while speaking; "" when not speaking
    speech_started = Signal()
    speech_finished = Signal()  # the utterance ended or was stopped: the loop's own mouth is back
    error = Signal(str)  # the mouth could not be drawn (the loop keeps playing without it)

    def __init__(self, view, session=None, parent: QObject | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self._view = view
        self._session = session  # LipSyncSession, opened on first use (it opens the audio device)
        self._now = clock
        self._frames: np.ndarray | None = None
        self._fps = 25.0
        self._renderer = None
        self._playing = False
        self._looping = True
        self._anchor_time = 0.0
        self._anchor_index = 0
        self._index = 0
        self._speaking = False
        self._show_viseme = False
        self._viseme = ""
        self._shown: tuple[int, MouthParams] | None = None
        self.current_params: MouthParams = REST
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)

    # --- setup ----------------------------------------------------------------------------------------
    @property
    def session(self):
        if self._session is None:
            from ...core.speech.session import LipSyncSession

            self._session = LipSyncSession()
        return self._session

    def set_view(self, view) -> None:
        """Draw into another view from now on (the GL view failed and the raster one replaces it)."""
        self._view = view
        self._shown = None
        self._render_now()

    def set_loop(self, frames: np.ndarray, fps: float, renderer=None, play: bool = True) -> None:
        """Frames (n, h, w, 3) uint8 RGB held in memory; `renderer`: MouthRenderer-like, or None (no mouth)."""
        frames = np.asarray(frames)
        if frames.ndim != 4 or frames.shape[0] == 0 or frames.shape[3] != 3 or frames.dtype != np.uint8:
            raise ValueError(f"loop frames must be (n, h, w, 3) uint8, not {frames.shape} {frames.dtype}")
        if not fps or fps <= 0 or not math.isfinite(fps):
            raise ValueError(f"the loop needs a positive frame rate, not {fps!r}")
        self._frames, self._fps, self._renderer = frames, float(fps), renderer
        self._index, self._shown = 0, None
        self._anchor(0)
        self._render_now()
        self.frame_changed.emit(0, self.frame_count)
        if play:
            self.play()
        else:
            self._schedule()

    def set_renderer(self, renderer) -> None:
        """Draw the mouth with another renderer from the next frame on (e.g. the user's PNG patch set)."""
        self._renderer, self._shown = renderer, None
        self._render_now()

    def clear(self, placeholder: str = "No loop loaded") -> None:
        self.pause()
        self._frames, self._renderer, self._shown = None, None, None
        self._view.set_frame(None)
        self._view.set_overlay_text("")
        self._view.set_placeholder(placeholder)
        self.frame_changed.emit(-1, 0)

    # --- state ------------------------------------------------------------------------------------------
    @property
    def frame_count(self) -> int:
        return 0 if self._frames is None else int(self._frames.shape[0])

    @property
    def frames(self) -> np.ndarray | None:
        return self._frames

    @property
    def fps(self) -> float:
        return self._fps

    @property
    def frame_index(self) -> int:
        return self._index

    @property
    def is_playing(self) -> bool:
        return self._playing

    @property
    def looping(self) -> bool:
        return self._looping

    @property
    def speaking(self) -> bool:
        return self._speaking

    @property
    def has_mouth(self) -> bool:
        return self._renderer is not None

    # --- transport ----------------------------------------------------------------------------------
    def play(self) -> None:
        if self._frames is None or self._playing:
            return
        if not self._looping and self._index >= self.frame_count - 1:
            self._index = 0  # play again from the start after a one-shot pass ended
            self.frame_changed.emit(0, self.frame_count)  # the counter must not keep naming the last frame
        self._anchor(self._index)
        self._playing = True
        self.playing_changed.emit(True)
        self._tick()

    def pause(self) -> None:
        if not self._playing:
            return
        self._playing = False
        self.playing_changed.emit(False)
        self._schedule()  # keeps ticking while the mouth still moves on the paused frame

    def toggle_play(self) -> None:
        self.pause() if self._playing else self.play()

    def set_looping(self, on: bool) -> None:
        self._looping = bool(on)

    def seek(self, index: int) -> None:
        if self._frames is None:
            return
        self._index = int(index) % self.frame_count
        self._anchor(self._index)
        self._render_now()
        self.frame_changed.emit(self._index, self.frame_count)

    def _anchor(self, index: int) -> None:
        self._anchor_time, self._anchor_index = self._now(), int(index)

    # --- speech -----------------------------------------------------------------------------------------
    def speak(self, utterance, open_ended: bool = False) -> None:
        """Start speaking `utterance`, replacing any utterance in progress (audio and mouth).

        open_ended: the start of a streamed utterance; `extend_speech` brings the rest.
        """
        self.session.speak(utterance, open_ended=open_ended)
        self._speaking = True
        self.speech_started.emit()
        self._tick()

    def extend_speech(self, utterance, final: bool = False) -> bool:
        """A longer version of the streamed utterance speaking now (False if it was stopped meanwhile)."""
        return self._session is not None and self._session.extend(utterance, final=final)

    def stop_speaking(self) -> None:
        if self._session is not None:
            self._session.stop()
        self._end_speech()

    def _end_speech(self) -> None:
        if not self._speaking:
            return
        self._speaking = False
        self._render_now()
        self.speech_finished.emit()

    def set_show_viseme(self, on: bool) -> None:
        self._show_viseme = bool(on)
        self._update_overlay()

    # --- the clock ----------------------------------------------------------------------------------------
    def _index_now(self) -> int:
        n = self.frame_count
        if not self._playing:
            return self._index
        raw = self._anchor_index + int(math.floor((self._now() - self._anchor_time) * self._fps + 1e-9))
        if self._looping:
            return raw % n
        if raw >= n:  # one pass only: stop on the last frame
            self._playing = False
            self.playing_changed.emit(False)
            return n - 1
        return raw

    def _tick(self) -> None:
        if self._frames is None:
            return
        index = self._index_now()
        if index != self._index:
            self._index = index
            self.frame_changed.emit(index, self.frame_count)
        self._render_now()
        self._schedule()

    def _schedule(self) -> None:
        if self._frames is None or not (self._playing or self._speaking):
            self._timer.stop()
            return
        period = 1.0 / self._fps
        if self._playing:
            elapsed = (self._now() - self._anchor_time) * self._fps
            wait = (math.floor(elapsed + 1e-9) + 1 - elapsed) * period + WAKE_AFTER_BOUNDARY_S
        else:
            wait = period  # paused while speaking: the mouth still moves at the loop's rate
        self._timer.start(max(1, int(round(wait * 1000))))

    def _mouth_params(self) -> MouthParams:
        if not self._speaking or self._session is None:
            return REST
        params = self._session.mouth_params_now()
        if self._session.utterance is None:  # finished (or stopped elsewhere): the loop's own mouth again
            self._speaking = False
            self.speech_finished.emit()
            return REST
        return params

    def _render_now(self) -> None:
        if self._frames is None:
            return
        params = self._mouth_params()
        self.current_params = params
        self._update_overlay()
        key = (self._index, params)
        if key == self._shown:
            return
        frame = self._frames[self._index]
        if self._renderer is not None and not params.is_rest:
            try:
                frame = self._renderer.render(frame, self._index, params)
            except Exception as exc:  # noqa: BLE001 - keep the loop playing, say what broke
                log.exception("mouth rendering failed")
                self._renderer = None
                self.error.emit(f"the mouth could not be drawn on this loop ({type(exc).__name__}: {exc})")
        self._view.set_frame(frame, self._index)
        self._shown = key

    def _update_overlay(self) -> None:
        text = self.current_params.viseme if (self._show_viseme and self._speaking) else ""
        self._view.set_overlay_text(text)
        viseme = self.current_params.viseme if self._speaking else ""
        if viseme != self._viseme:
            self._viseme = viseme
            self.viseme_changed.emit(viseme)

    def close(self) -> None:
        """Stop the timer and the audio (the window is closing)."""
        self._timer.stop()
        self._playing = False
        if self._session is not None:
            self._session.stop()
            self._session.player.close()
        self._speaking = False
