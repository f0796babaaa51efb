"""Speech to timed mouth shapes: TTS engines, phonemes, visemes, timing, audio, playback clock. No Qt.

Main entry points (imported lazily, so `import navtalk_desktop.core.speech` stays cheap):
prepare_utterance / Utterance (utterance.py), LipSyncSession (session.py), open_player (player.py),
default_engine / engine_by_name (engines.py), EspeakEngine (espeak_engine.py), types (types.py), EdgeTtsEngine (edge_engine.py),
write_cues (cues.py), VISEMES (visemes.py).
"""

from ..lazy_exports import lazy_getattr

_EXPORTS = {
    "prepare_utterance": "utterance", "utterance_from_speech": "utterance", "Utterance": "utterance",
    "LipSyncSession": "session", "open_player": "player", "AudioPlayer": "player", "SilentPlayer": "player",
    "EspeakEngine": "espeak_engine", "default_engine": "engines", "engine_by_name": "engines",
    "SpeechResult": "types", "TtsEngine": "types", "EdgeTtsEngine": "edge_engine",
    "write_cues": "cues", "VISEMES": "visemes", "MouthTimeline": "timeline", "VisemeCue": "timeline",
    "MonotonicClock": "clock", "AudioDeviceClock": "clock", "PlaybackClock": "clock",
}


__getattr__ = lazy_getattr(__name__, _EXPORTS)
