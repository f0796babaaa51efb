"""Facts about the frozen (PyInstaller) app: whether we are frozen, where the bundle is, what lies inside it."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def guard_std_streams() -> None:
    """Windowed builds (Windows, macOS app bundles, pythonw) start with sys.stdout/sys.stderr set to None;
    a print() or a library's warning would then raise. Send them to the null device instead."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def bundle_dir() -> Path | None:
    """`sys._MEIPASS`: the `_internal/` folder of a onedir build, where libraries, data and models live."""
    root = getattr(sys, "_MEIPASS", None)
    return Path(root).resolve() if root else None


def in_bundle(path: str | Path | None) -> bool | None:
    """Whether `path` lies inside the frozen bundle (None when not frozen)."""
    root = bundle_dir()
    if root is None or not path:
        return None
    try:
        return Path(path).resolve().is_relative_to(root)
    except OSError:
        return False


def loaded_library(fragment: str) -> str | None:
    """Path of the shared library whose file name contains `fragment`, as mapped into this process (Linux)."""
    maps = Path("/proc/self/maps")
    if not maps.exists():
        return None
    for line in maps.read_text(errors="replace").splitlines():
        parts = line.split(maxsplit=5)  # address perms offset dev inode [path]
        if len(parts) == 6 and fragment in Path(parts[5]).name:
            return parts[5]
    return None


def bundle_library_paths(env) -> list[str]:
    """Entries of the library search path variables in `env` that point into the frozen bundle.

    Frozen on Linux, the bootloader puts the bundle first on LD_LIBRARY_PATH; a child process that
    inherits it could load the bundle's libraries instead of its own.
    """
    root = bundle_dir()
    found = []
    for key in ("LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH"):
        for entry in env.get(key, "").split(os.pathsep):
            if root is not None and entry and in_bundle(os.path.normpath(entry)):
                found.append(f"{key}={entry}")
    return found
