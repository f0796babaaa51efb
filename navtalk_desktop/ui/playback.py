"""Playback of the planned loop in the editor: Space, J/K/L shuttle and "play across the seam".

The loop plays in output order (a ping-pong's way back, a crossfade's blended tail) at the clip's true
rate, from the frames already decoded for the frame view: nothing is decoded per frame. The position
comes from a monotonic clock, not from counting timer ticks, so a late tick skips a frame instead of
slowing the loop down. Each shown output frame moves the document's playhead to its main source frame,
so the timeline's playhead follows; `output_frame_changed` carries the frame's blend for the frame view.
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from ..core.loop_plan import LoopPlan

MAX_SHUTTLE = 8.0  # J/L pressed repeatedly: 1x, 2x, 4x, 8x
SEAM_CONTEXT_S = 1.0  # "play across the seam": this long before and after the wrap


class PlaybackController(QObject):
    playing_changed = Signal(bool)
    rate_changed = Signal(float)  # signed: negative plays backwards
    output_frame_changed = Signal(int, object)  # output index, [(source frame, weight), ...]

    def __init__(self, document, clock=time.monotonic, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc = document
        self._clock = clock
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self.rate = 0.0
        self.seam_only = False
        self._plan: LoopPlan | None = None
        self._sources: list = []
        self._origin_time = 0.0
        self._origin_pos = 0.0
        self.position = 0  # output frames advanced since playback began (unwrapped; the shown frame)
        self.output_index = 0  # the output frame shown
        document.plan_changed.connect(self._plan_changed)
        document.source_changed.connect(self.stop)

    # --- state ------------------------------------------------------------------------------------------------
    @property
    def is_playing(self) -> bool:
        return self.rate != 0.0

    @property
    def fps(self) -> float:
        return float(self._plan.fps) if self._plan is not None else 0.0

    def _plan_changed(self, plan) -> None:
        self._plan = plan
        self._sources = plan.output_sources() if plan is not None else []
        if plan is None:
            self.stop()

    def _cycle(self) -> list[int]:
        """Output indices played in order, repeating: the whole loop, or 1 s either side of the wrap."""
        n = len(self._sources)
        if not self.seam_only:
            return list(range(n))
        s = max(1, min(int(round(SEAM_CONTEXT_S * self.fps)), n // 2))
        return [(n - s + i) % n for i in range(2 * s)]

    # --- commands (the keys) ----------------------------------------------------------------------------------
    def toggle(self) -> None:
        """Space: play forwards at 1x, or pause where it is."""
        if self.is_playing:
            self.stop()
        else:
            self.play(1.0)

    def shuttle(self, direction: int) -> None:
        """L (direction 1) / J (-1): play that way; pressed again while playing that way, twice as fast."""
        if self.is_playing and math.copysign(1, self.rate) == direction:
            self.play(max(-MAX_SHUTTLE, min(MAX_SHUTTLE, self.rate * 2)))
        else:
            self.play(float(direction), seam_only=self.seam_only if self.is_playing else False)

    def play_seam(self) -> None:
        """Play from 1 s before the wrap to 1 s after it, over and over (or stop it when it runs)."""
        if self.is_playing and self.seam_only:
            self.stop()
            return
        self.play(1.0, seam_only=True)

    def play(self, rate: float = 1.0, seam_only: bool = False) -> bool:
        if self._plan is None or not self._sources or rate == 0:
            return False
        cycle_changed = seam_only != self.seam_only or not self.is_playing
        self.seam_only = seam_only
        cycle = self._cycle()
        if cycle_changed:
            start = self._start_index(cycle)
            self._origin_pos, self.position = float(start), start
        else:  # a new speed: go on from the frame shown
            self._origin_pos = float(self.position)
        self._origin_time = self._clock()
        was_playing = self.is_playing
        self.rate = rate
        self._timer.start(max(4, int(1000 / (self.fps * abs(rate)) / 2)))
        self.rate_changed.emit(rate)
        if not was_playing:
            self.playing_changed.emit(True)
        self._show(self.position)
        return True

    def _start_index(self, cycle: list[int]) -> int:
        """Where in the cycle to begin: at the playhead's frame if the cycle shows it, else its start."""
        if self.seam_only:
            return 0
        playhead = self.doc.playhead
        return next((pos for pos, i in enumerate(cycle) if self._main_source(i) == playhead), 0)

    def stop(self) -> None:
        """K: stop; the playhead stays on the frame shown."""
        self._timer.stop()
        if self.rate != 0.0:
            self.rate = 0.0
            self.rate_changed.emit(0.0)
            self.playing_changed.emit(False)

    # --- the clock ----------------------------------------------------------------------------------------------
    def _tick(self) -> None:
        if self._plan is None:
            self.stop()
            return
        elapsed = self._clock() - self._origin_time
        position = int(math.floor(self._origin_pos + elapsed * self.fps * self.rate))
        if position != self.position:
            self.position = position
            self._show(position)

    def _main_source(self, index: int) -> int:
        parts = self._sources[index]
        return max(parts, key=lambda part: part[1])[0]

    def _show(self, position: int) -> None:
        cycle = self._cycle()
        if not cycle:
            return
        index = cycle[position % len(cycle)]
        self.output_index = index
        self.doc.set_playhead(self._main_source(index))
        self.output_frame_changed.emit(index, self._sources[index])

    def caption(self) -> str:
        n = len(self._sources)
        speed = "" if abs(self.rate) == 1 else f" {abs(self.rate):g}x"
        way = "◀" if self.rate < 0 else "▶"
        what = "across the seam" if self.seam_only else "loop"
        return f"{way}{speed} {what} · output frame {self.output_index + 1} / {n}"
