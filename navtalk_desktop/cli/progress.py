"""Progress display for the CLI: a bar on a terminal, sparse plain lines otherwise (logs, CI)."""

from __future__ import annotations

import sys
import time


class ProgressLine:
    def __init__(self, label: str, stream=None):
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.monotonic()
        self._last_step = -1

    def __call__(self, fraction: float, detail: str = "") -> None:
        fraction = max(0.0, min(1.0, fraction))
        elapsed = time.monotonic() - self.start
        if self.tty:
            filled = int(fraction * 30)
            bar = "#" * filled + "-" * (30 - filled)
            self.stream.write(f"\r{self.label} [{bar}] {fraction:4.0%} {elapsed:5.1f}s {detail}"[:120].ljust(80))
            if fraction >= 1.0:
                self.stream.write("\n")
            self.stream.flush()
            return
        step = int(fraction * 4)  # 0 %, 25 %, 50 %, 75 %, 100 %
        if step != self._last_step:
            self._last_step = step
            self.stream.write(f"{self.label}: {fraction:.0%} ({elapsed:.1f} s) {detail}".rstrip() + "\n")
            self.stream.flush()
