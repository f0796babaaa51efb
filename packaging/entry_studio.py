"""Frozen entry point of `navtalk-studio` (windowed): the same `main()` as the installed gui-script."""

import multiprocessing
import sys


def _guard_std_streams() -> None:
    """Windowed builds on Windows (and macOS app bundles) start with sys.stdout/sys.stderr set to None;
    a print() or a library writing a warning would then raise. Send them to the null device instead."""
    import os

    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))


if __name__ == "__main__":
    # First, before anything else: a child started by multiprocessing must not start another studio.
    multiprocessing.freeze_support()
    _guard_std_streams()
    from navtalk_desktop.ui.app import main

    sys.exit(main())
