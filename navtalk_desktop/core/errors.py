"""Typed errors. Each carries a message a user can act on; none carries a secret."""

from __future__ import annotations


class NavTalkError(Exception):
    """Base class: a failure the user should see as a clear message, not a traceback."""


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
