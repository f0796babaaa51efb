"""`python -m navtalk_desktop [FILE]` opens the studio window (the same as `navtalk-studio`)."""

from __future__ import annotations

import sys

from .studio import main

if __name__ == "__main__":
    sys.exit(main())
