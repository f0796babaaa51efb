"""Choosing a text-to-speech engine: by name, or the best one for the network at hand.

Why two engines: edge-tts sounds natural but needs the network and gives only word timings; espeak-ng is
always there and its phoneme events are the timing reference. The offline one is the default when there
is no network. The shared types are in types.py, each engine in its own module.
"""

from __future__ import annotations

import os

from ..errors import InputError
from .espeak_engine import EspeakEngine
from .network import network_available
from .types import EDGE, ENGINE_NAMES, ESPEAK, TtsEngine


def engine_by_name(name: str) -> TtsEngine:
    name = (name or "").strip().lower()
    if name in ("espeak", "espeak-ng"):
        return EspeakEngine()
    if name in ("edge", "edge-tts"):
        from .edge_engine import EdgeTtsEngine

        return EdgeTtsEngine()
    raise InputError(f"unknown speech engine {name!r}; choose one of: {', '.join(ENGINE_NAMES)}")


def default_engine(online: bool | None = None) -> TtsEngine:
    """edge-tts when the network is there, espeak-ng otherwise; NAVTALK_TTS_ENGINE overrides."""
    forced = os.environ.get("NAVTALK_TTS_ENGINE", "").strip()
    if forced:
        return engine_by_name(forced)
    if online is None:
        online = network_available()
    return engine_by_name(EDGE if online else ESPEAK)
