"""The live lip-sync session a preview widget drives: speak, stop, and 'which mouth pose now?'.

The widget asks `mouth_params_now()` once per painted frame. The answer is for the moment the frame
will actually be seen: the player's clock position (audio device clock when there is one) plus the
display latency and a user offset.
"""

from __future__ import annotations

import threading

from ..mouth.params import REST, MouthParams
from .player import AudioPlayer, SilentPlayer, open_player
from .timeline import RELEASE_S
from .utterance import Utterance


class LipSyncSession:
    def __init__(self, player: AudioPlayer | SilentPlayer | None = None, display_latency: float = 1 / 60,
                 offset: float = 0.0) -> None:
        self.player = player if player is not None else open_player()
        self.display_latency = float(display_latency)  # about one refresh: the frame shows up next vsync
        self.offset = float(offset)  # user-tunable A/V nudge, seconds (+ = mouth later)
        self._utterance: Utterance | None = None
        self._open_ended = False  # a streamed utterance still growing: it must not end at its current length
        self._lock = threading.Lock()

    @property
    def audio_available(self) -> bool:
        return bool(self.player.audio_available)

    @property
    def clock_description(self) -> str:
        """What drives the mouth, for the status line (says so when there is no audio device)."""
        return self.player.clock.description

    @property
    def utterance(self) -> Utterance | None:
        return self._utterance

    def set_display_refresh(self, hz: float) -> None:
        if hz > 0:
            self.display_latency = 1.0 / hz

    def speak(self, utterance: Utterance, open_ended: bool = False) -> None:
        """Start `utterance`, replacing whatever was playing (its audio and its mouth).

        open_ended: the utterance is the start of a stream; `extend` brings the rest.
        """
        with self._lock:
            self._utterance = None
            self.player.stop()
            self._utterance = utterance
            self._open_ended = open_ended
            self.player.play(utterance.audio, utterance.sample_rate, open_ended=open_ended)

    def extend(self, utterance: Utterance, final: bool = False) -> bool:
        """A longer version of the streamed utterance now speaking; False if it was stopped meanwhile."""
        with self._lock:
            if self._utterance is None or not self._open_ended:
                return False
            self._utterance = utterance
            self._open_ended = not final
            self.player.extend(utterance.audio, utterance.sample_rate, final=final)
            return True

    def stop(self) -> None:
        with self._lock:
            self._utterance = None
            self._open_ended = False
            self.player.stop()

    def position(self) -> float | None:
        """Seconds into the current utterance for the frame being painted now; None when idle."""
        if self._utterance is None:
            return None
        pos = self.player.clock.position()
        if pos is None:
            return None
        return pos + self.display_latency - self.offset

    @property
    def speaking(self) -> bool:
        utt, pos = self._utterance, self.position()
        return utt is not None and (pos is None or self._open_ended or pos <= utt.duration + RELEASE_S)

    def mouth_params_now(self) -> MouthParams:
        utt = self._utterance
        pos = self.position()
        if utt is None or pos is None:
            return REST
        if pos > utt.duration + RELEASE_S and not self._open_ended:
            with self._lock:
                if self._utterance is utt:  # finished: back to the loop's own mouth
                    self._utterance = None
            return REST
        return utt.mouth_params_at(pos)
