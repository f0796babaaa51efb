"""Terminal progress for Kling generation: one redrawn bar on a TTY, plain lines otherwise (logs, CI)."""

from __future__ import annotations

import sys
from typing import TextIO

from ..core.kling.generation import GenerationProgress


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def _mb(n: int | None) -> str:
    return "?" if n is None else f"{n / 1_000_000:.1f} MB"


class GenerationProgressPrinter:
    """Callable as `on_progress`. Plain mode prints only changes (stage, status, each 25% of the download)."""

    def __init__(self, stream: TextIO | None = None, tty: bool | None = None, width: int = 24) -> None:
        self.stream = stream or sys.stderr
        self.tty = (hasattr(self.stream, "isatty") and self.stream.isatty()) if tty is None else tty
        self.width = width
        self._last_key: tuple | None = None
        self._last_quarter = -1
        self._line_open = False

    def describe(self, p: GenerationProgress) -> str:
        parts = [p.stage if p.stage == p.task_status or not p.task_status else f"{p.stage} ({p.task_status})"]
        if p.job_id is not None:
            parts.append(f"job {p.job_id}")
        if p.stage in ("submitted", "processing", "downloading", "verifying", "done"):
            parts.append(f"elapsed {_clock(p.elapsed)}")
        if p.stage in ("submitted", "processing"):
            parts.append(f"typical {_clock(p.typical_total)}")
        if p.stage in ("downloading", "verifying"):
            parts.append(f"{_mb(p.bytes_done)} / {_mb(p.bytes_total)}")
        if p.message and p.stage != "done":
            parts.append(p.message)
        return ", ".join(parts)

    def __call__(self, p: GenerationProgress) -> None:
        if self.tty:
            filled = int(round(p.fraction * self.width))
            bar = "#" * filled + "-" * (self.width - filled)
            self.stream.write(f"\r[{bar}] {p.fraction:4.0%} {self.describe(p)}\x1b[K")
            self._line_open = True
            if p.stage == "done":
                self.close()
            self.stream.flush()
            return
        key = (p.stage, p.task_status, p.message)  # a new notice ("cannot reach …") is a new line
        quarter = -1
        if p.stage == "downloading" and p.bytes_total:
            quarter = min(4, int(4 * p.bytes_done / p.bytes_total))
        if key != self._last_key or quarter > self._last_quarter:
            self._last_key = key
            self._last_quarter = quarter if p.stage == "downloading" else -1
            print(self.describe(p), file=self.stream, flush=True)

    def close(self) -> None:
        if self._line_open:
            self.stream.write("\n")
            self.stream.flush()
            self._line_open = False
