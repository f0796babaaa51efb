"""Argument types that refuse nonsense numbers at the door, with a message naming the option's rule.

argparse turns the ArgumentTypeError into "argument --duration: ..." and exit code 2, never a traceback.
`nan`, `inf` and absurd sizes would otherwise reach frame arithmetic (ValueError/OverflowError).
"""

from __future__ import annotations

import argparse
import math

MAX_SECONDS = 24 * 3600.0  # no clip this app handles is a day long; bigger numbers are typos


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (e.g. 2.5)") from None
    if math.isnan(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; give seconds, e.g. 2.5")
    if math.isinf(value) or abs(value) > MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a usable number of seconds; give at most "
                                         f"{MAX_SECONDS:g} (one day)")
    return value


def positive_seconds(text: str) -> float:
    """A duration that must be longer than zero."""
    value = _seconds(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds (got {text}); a loop needs a length, e.g. 4")
    return value


def non_negative_seconds(text: str) -> float:
    """A time or margin of zero or more seconds."""
    value = _seconds(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 seconds or more (got {text})")
    return value


def frame_index(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a frame number (a whole number, 0 or more)") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"frame numbers start at 0 (got {text})")
    return value


def crf(text: str) -> int:
    """H.264 constant rate factor: libx264 accepts 0 (lossless) to 51 (worst)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number; H.264 CRF is 0-51 (default 18)") from None
    if not 0 <= value <= 51:
        raise argparse.ArgumentTypeError(f"H.264 CRF must be between 0 (lossless) and 51 (worst); got {value}. "
                                         f"18 is visually lossless")
    return value
