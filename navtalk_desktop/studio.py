"""`navtalk-studio` and `python -m navtalk_desktop`: the window, or the installation self-test.

The self-test is dispatched here, before any Qt import, so the window's package (`ui`) never imports the
self-test that checks it (docs/architecture.md: no layer cycles).
"""

from __future__ import annotations

import sys

from .frozen import guard_std_streams


def main(argv: list[str] | None = None) -> int:
    guard_std_streams()  # before the self-test too: it prints its report
    args = sys.argv[1:] if argv is None else list(argv)
    if "--self-test" in args:
        from .selftest import main as selftest

        return selftest(args)
    from .ui.app import main as open_studio

    return open_studio(argv)
