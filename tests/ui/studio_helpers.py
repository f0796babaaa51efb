"""Shared constants and helpers of the studio UI tests (imported by conftest and the test modules)."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CLIP = FIXTURES / "liveportrait_d18.mp4"
ANNOTATIONS = json.loads((FIXTURES / "annotations.json").read_text())


def open_and_wait_for_plan(qtbot, window, path: Path = CLIP, timeout: int = 60000):
    """Open a video in the window and wait until it is analysed and has its starting loop plan."""
    with qtbot.waitSignal(window.loop.plan_ready, timeout=timeout) as blocker:
        assert window.open_path(path)
    return blocker.args[0]
