"""Typed errors. Each carries a message a user can act on; none carries a secret.

The message states the facts in words of the domain ("the video has 150 frames but this loop needs 180").
What the user can change is a `Remedy`, not a sentence: each front end words it for itself, the CLI with its
flags (cli/error_words.py), the studio with its controls (ui/error_words.py). Core never names a flag.
"""

from __future__ import annotations

from enum import StrEnum


class Remedy(StrEnum):
    """What the user can change to get past an error (worded by each front end)."""

    SHORTER_DURATION = "shorter_duration"
    LOOP_POINT = "loop_point"  # no clean blink: the user picks the loop point
    SHORTER_DURATION_OR_LOOP_POINT = "shorter_duration_or_loop_point"
    NAME_FORMAT = "name_format"  # the output's suffix says no format
    FIX_IMAGE = "fix_image"  # the app can convert the portrait (facts: `fix`, what it would do)
    OFFLINE_ENGINE = "offline_engine"  # speak with espeak-ng instead of the online voices
    LIST_VOICES = "list_voices"  # the voice is unknown: see the voices there are


def with_remedy(exc: BaseException, hints: dict) -> str:
    """`exc`'s message followed by its remedy as a front end words it (`hints`: Remedy -> template over
    the error's facts). An error with no remedy, or one the template cannot fill, keeps its bare message."""
    remedy = getattr(exc, "remedy", None)
    hint = hints.get(remedy, "") if remedy is not None else ""
    try:
        hint = hint.format(**{"fix": "convert it", "engine": "espeak", **getattr(exc, "facts", {})})
    except (KeyError, IndexError):
        hint = ""
    return f"{exc}{hint}"


class NavTalkError(Exception):
    """Base class: a failure the user should see as a clear message, not a traceback.

    `remedy` (a Remedy) and `facts` (what a front end needs to word it) are optional structure beside
    the message.
    """

    remedy: Remedy | None = None  # class defaults: subclasses with their own __init__ need not pass them
    facts: dict = {}

    def __init__(self, *args, remedy: Remedy | None = None, **facts) -> None:
        super().__init__(*args)
        self.remedy = remedy
        self.facts = facts


class InputError(NavTalkError):
    """The input file cannot be used (missing, empty, not a video, no frames...)."""


class OutputError(NavTalkError):
    """The output cannot be written where asked."""


class FFmpegError(NavTalkError):
    """FFmpeg failed; the message holds the relevant tail of its log."""


class CancelledError(NavTalkError):
    """The operation was cancelled by the user; nothing was written."""


class PlanError(NavTalkError):
    """A loop plan cannot be built from the given options and video."""
