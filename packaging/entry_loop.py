"""Frozen entry point of `navtalk-loop` (console): the same `console_main()` as the installed console script."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from navtalk_desktop.frozen import guard_std_streams

    guard_std_streams()
    from navtalk_desktop.cli.main import console_main

    console_main()
