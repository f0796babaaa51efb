"""Frozen entry point of `navtalk-studio` (windowed): the same `main()` as the installed gui-script."""

import multiprocessing
import sys

if __name__ == "__main__":
    # First, before anything else: a child started by multiprocessing must not start another studio.
    multiprocessing.freeze_support()
    from navtalk_desktop.frozen import guard_std_streams

    guard_std_streams()
    from navtalk_desktop.studio import main

    sys.exit(main())
