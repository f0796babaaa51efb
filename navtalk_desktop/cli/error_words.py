"""Errors worded for the command line: the core's message plus what to change, in this CLI's flags.

Core errors state facts and name a `Remedy` (core/errors.py); only here do those become flags.
"""

from __future__ import annotations

from ..core.errors import Remedy, with_remedy

_HINTS = {
    Remedy.SHORTER_DURATION: "; choose a shorter --duration",
    Remedy.LOOP_POINT: "; give a loop point with --at SECONDS or --frame N",
    Remedy.SHORTER_DURATION_OR_LOOP_POINT: "; choose a shorter --duration or another loop point (--at / --frame)",
    Remedy.NAME_FORMAT: ", or pass --format",
    Remedy.FIX_IMAGE: ". Run again with --fix to {fix}",
    Remedy.OFFLINE_ENGINE: " or use the offline engine (--engine espeak)",
    Remedy.LIST_VOICES: " (see `navtalk-loop voices --engine {engine}`)",
}


#: How `analyze`'s summary says to pick a loop point when no clean blink was found.
LOOP_POINT_HINT = " (--at SECONDS or --frame N)"


def worded(exc: BaseException) -> str:
    """The message a CLI user reads for `exc`."""
    return with_remedy(exc, _HINTS)
