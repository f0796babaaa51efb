"""NavTalk Loop Studio: seamless idle loops for a digital human."""

from __future__ import annotations


def _read_version() -> str:
    """Version from the installed metadata, with a fallback for frozen builds."""
    try:
        from importlib.metadata import version

        return version("navtalk-desktop")
    except Exception:  # frozen without metadata, or running from a source tree
        return "0.1.0"


def __getattr__(name: str):
    """`__version__` is read when first asked for: importlib.metadata costs 35 ms of every command."""
    if name == "__version__":
        value = globals()["__version__"] = _read_version()
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
