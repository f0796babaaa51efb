"""Engine and voice pickers of the preview panel; each engine keeps the voice the user chose for it.

Voice lists load lazily: while the window starts the voice box says "Default voice" and no engine is
imported (edge-tts pulls in asyncio, espeak-ng loads its library); the list fills when the panel is
first on screen or the engine changes.
"""

from __future__ import annotations

import logging
import os

from PySide6.QtWidgets import QComboBox, QFormLayout, QSizePolicy, QWidget

log = logging.getLogger(__name__)

ENGINES = (("espeak", "espeak-ng (offline)"), ("edge", "edge-tts (online)"))


def default_engine_name() -> str:
    """The offline engine when there is no network (NAVTALK_TTS_ENGINE overrides), without importing engines."""
    from ...core.speech.network import network_available
    from ...core.speech.types import EDGE, ENGINE_NAMES, ESPEAK

    forced = os.environ.get("NAVTALK_TTS_ENGINE", "").strip().lower().replace("-ng", "").replace("-tts", "")
    if forced in ENGINE_NAMES:
        return forced
    return EDGE if network_available() else ESPEAK


class VoicePicker(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._choice: dict[str, str] = {}  # engine -> voice id the user picked
        self._loaded: set[str] = set()
        form = QFormLayout(self)  # one row each: the panel must fit a narrow dock
        form.setContentsMargins(0, 0, 0, 0)
        self.engine_combo = QComboBox()
        for name, label in ENGINES:
            self.engine_combo.addItem(label, name)
        self.voice_combo = QComboBox()
        for combo in (self.engine_combo, self.voice_combo):
            combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(14)
        form.addRow("Engine", self.engine_combo)
        form.addRow("Voice", self.voice_combo)
        self.engine_combo.setCurrentIndex(self.engine_combo.findData(default_engine_name()))
        self.engine_combo.currentIndexChanged.connect(lambda _i: self._fill(full=True))
        self.voice_combo.currentIndexChanged.connect(self._voice_changed)
        self._fill(full=False)

    @property
    def engine(self) -> str:
        return self.engine_combo.currentData()

    @property
    def voice(self) -> str | None:
        """The chosen voice id; None = the engine's default."""
        return self.voice_combo.currentData() or None

    def voice_for(self, engine: str) -> str | None:
        return self._choice.get(engine) or None

    def load_voices(self) -> None:
        """Fill the current engine's full list, once."""
        if self.engine not in self._loaded:
            self._fill(full=True)

    def select(self, engine: str, voice: str | None = None) -> None:
        self.engine_combo.setCurrentIndex(self.engine_combo.findData(engine))
        self.load_voices()
        if voice:
            if self.voice_combo.findData(voice) < 0:
                self.voice_combo.addItem(voice, voice)
            self.voice_combo.setCurrentIndex(self.voice_combo.findData(voice))

    def _fill(self, full: bool) -> None:
        """The engine's voices, English first (`full=False`: only "Default voice", nothing imported)."""
        name = self.engine
        chosen = self._choice.get(name, "")
        voices = []
        if full:
            from ...core.speech.engines import engine_by_name

            try:
                engine = engine_by_name(name)
                chosen = chosen or engine.default_voice
                voices = engine.voices()
                self._loaded.add(name)
            except Exception as exc:  # noqa: BLE001 - a voice list must not break the panel
                log.warning("could not list %s voices: %s", name, exc)
        voices.sort(key=lambda v: (not v.language.startswith("en"), v.name.lower()))
        self.voice_combo.blockSignals(True)
        self.voice_combo.clear()
        if not chosen:
            self.voice_combo.addItem("Default voice", "")
        elif not any(v.id == chosen for v in voices):
            self.voice_combo.addItem(f"{chosen} (default)", chosen)
        for v in voices:
            self.voice_combo.addItem(f"{v.name} — {v.id}", v.id)
        self.voice_combo.setCurrentIndex(max(0, self.voice_combo.findData(chosen)))
        self.voice_combo.blockSignals(False)

    def _voice_changed(self, _index: int) -> None:
        if self.voice:
            self._choice[self.engine] = self.voice
