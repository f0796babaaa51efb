"""Errors worded for the studio window: the core's message plus what to change, in the window's controls.

Core errors state facts and name a `Remedy` (core/errors.py); the CLI words the same remedies with its flags
(cli/error_words.py), the studio here with the Export panel, the timeline and the portrait's fix button.
"""

from __future__ import annotations

from ..core.errors import Remedy, with_remedy

_HINTS = {
    Remedy.SHORTER_DURATION: "; choose a shorter Duration in the Export panel",
    Remedy.LOOP_POINT: "; set the loop point yourself: move the playhead to a frame and press P",
    Remedy.SHORTER_DURATION_OR_LOOP_POINT: "; choose a shorter Duration, or move the loop point (P at the playhead)",
    Remedy.NAME_FORMAT: ", or choose a Format in the Export panel",
    Remedy.FIX_IMAGE: ". “Fix it for me” can {fix}",
    Remedy.OFFLINE_ENGINE: " or choose an offline (espeak-ng) voice in the Live Preview",
    Remedy.LIST_VOICES: " (choose one from the Live Preview's voice list)",
}


def worded(exc: BaseException) -> str:
    """The message a studio user reads for `exc`."""
    return with_remedy(exc, _HINTS)
