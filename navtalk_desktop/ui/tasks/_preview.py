"""The preview panel's background tasks: preparing an utterance, and decoding a loop file into memory.

Both run in the studio's TaskRunner; only their results reach the GUI thread.
"""

from __future__ import annotations

from pathlib import Path


#: The TaskRunner lane of the panel's speech (an offline preparation or an online stream): a newer Speak, or
#: Stop, supersedes what is in it, and the runner drops its late result.
SPEECH_LANE = "preview-speech"


def speech_task(text: str, engine: str, voice: str | None, offline_voice: str | None = None):
    """Prepare the utterance; when the online engine cannot be reached, speak offline and say so."""
    def run(ctx):
        from ...core.speech.edge_engine import TtsNetworkError
        from ...core.speech.utterance import prepare_utterance

        ctx.progress(-1, "Preparing speech…")
        try:
            return prepare_utterance(text, engine, voice, cancel=ctx.cancel)
        except TtsNetworkError as exc:
            if engine != "edge":
                raise
            utterance = prepare_utterance(text, "espeak", offline_voice, cancel=ctx.cancel)
            utterance.notice = f"online voices unavailable ({exc}); spoken with espeak-ng offline instead"
            return utterance

    return run


def loop_task(path: Path, patches: Path | None = None):
    def run(ctx):
        from ..preview.loop_data import load_preview_loop  # numpy and the decoder: only when a loop loads

        return load_preview_loop(path, patches, on_progress=lambda f: ctx.progress(f, f"Loading {path.name}…"),
                                 cancel=ctx.cancel)

    return run
