"""NavTalk Loop Studio: seamless idle loops for a digital human."""

from __future__ import annotations


def _read_version() -> str:
    """Version from the installed metadata, with a fallback for frozen builds."""
    try:
        from importlib.metadata import version

        return version("navtalk-desktop")
    except Exception:  # frozen without metadata, or running from a source tree
        return "0.1.0"


__version__ = _read_version()
