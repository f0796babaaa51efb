"""Every default a user can change, and the named choices they pick from: one light module (no heavy imports).

The CLI's flags, the settings file, a new project and the studio's panels all start from these values, so a
default changed here changes everywhere; importing this never pulls in ffmpeg, OpenCV or MediaPipe, so the
window and `--help` can use it at start-up.
"""

from __future__ import annotations

from enum import StrEnum


class Strategy(StrEnum):
    """How a loop hides its seam (core/loop_plan.py); the values are what files and flags say."""

    AUTO = "auto"  # measure candidates of the others and keep the best
    PINGPONG = "pingpong"
    CROSSFADE = "crossfade"
    MORPH = "morph"


STRATEGIES = tuple(s.value for s in Strategy)
BLENDED = (Strategy.CROSSFADE, Strategy.MORPH)  # forward loops whose last K frames blend into the head

# The loop
LOOP_DURATION_S = 4.0
BLINK_BEFORE_S = 1.0  # where the blink sits in a hand-placed window
BLINK_AFTER_S = 1.0
CROSSFADE_S = 0.4

# Export
EXPORT_STRATEGY = Strategy.AUTO
FORMAT_NAMES = ("mp4", "webm", "mov", "gif")
EXPORT_FORMAT = "mp4"
QUALITY_NAMES = ("high", "medium", "small")
EXPORT_QUALITY = "high"

# Kling generation
KLING_MODEL = "kling-v2-1"
KLING_MODE = "pro"
KLING_DURATION = "5"  # seconds, as Kling's API spells it
