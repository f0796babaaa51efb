"""Who the app is, and where its per-user files live: the one place for both.

Every folder has an environment override (`NAVTALK_DATA_DIR`, `NAVTALK_CONFIG_DIR`, `NAVTALK_CACHE_DIR`,
`NAVTALK_LOG_DIR`) so tests, the self-test and operators can move it; otherwise platformdirs picks the
platform's usual place (packaging/INSTALL.md lists them).
"""

from __future__ import annotations

import os
from pathlib import Path

APP_ID = "navtalk_desktop"  # folder names and the keyring service
APP_NAME = "NavTalk Loop Studio"  # what people read: window titles, About, CLI descriptions
CLI_NAME = "navtalk-loop"
STUDIO_NAME = "navtalk-studio"
FOLDER_KINDS = ("data", "config", "cache", "log")
OVERRIDE_VARS = tuple(f"NAVTALK_{kind.upper()}_DIR" for kind in FOLDER_KINDS)


def user_folder(kind: str, create: bool = True) -> Path:
    """The per-user folder of `kind` (data, config, cache or log), created unless `create` is false."""
    if kind not in FOLDER_KINDS:
        raise ValueError(f"unknown folder kind {kind!r}")
    override = os.environ.get(f"NAVTALK_{kind.upper()}_DIR")
    if override:
        path = Path(override)
    else:
        import platformdirs  # only when no override is set (tests and the self-test never pay for it)

        finder = {"data": platformdirs.user_data_dir, "config": platformdirs.user_config_dir,
                  "cache": platformdirs.user_cache_dir, "log": platformdirs.user_log_dir}[kind]
        path = Path(finder(APP_ID, appauthor=False))
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """Kling jobs, downloads and the job database."""
    return user_folder("data")


def config_dir() -> Path:
    """settings.json (not created until something is saved)."""
    return user_folder("config", create=False)


def cache_dir() -> Path:
    """Caches that can be rebuilt (landmarks)."""
    return user_folder("cache")


def log_dir() -> Path:
    return user_folder("log")
