"""Where bundled resources live, in a source tree, an installed checkout or a frozen build."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def sample_portrait() -> Path:
    return resources_dir() / "sample_portrait.png"
