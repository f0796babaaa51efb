"""The studio's preferences: one typed dataclass, stored as JSON in the user config folder.

Every value is read back with the type of its default (a hand-edited or old file can't smuggle a string
where a number belongs), unknown keys are dropped, and there is deliberately no field for an API key:
secrets live in the keyring (core/secrets.py), never here. `NAVTALK_CONFIG_DIR` moves the folder (tests).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from . import defaults, strict_json
from .app_paths import config_dir
from .atomic import write_text_atomic

log = logging.getLogger(__name__)

SETTINGS_FILE = "settings.json"
MAX_RECENT = 8
#: Key names that must never be stored in the settings file, whatever a caller passes in.
_SECRET_WORDS = ("secret", "password", "token", "access_key", "api_key")


@dataclass
class Settings:
    # Kling
    region: str = "global"  # "global" or "cn": picks the Kling base URL
    base_url: str = ""  # overrides the region (a proxy or the local simulator); empty = region default
    default_model: str = defaults.KLING_MODEL
    default_mode: str = defaults.KLING_MODE
    default_duration: str = defaults.KLING_DURATION
    loop_tail: bool = False
    demo_mode: bool = False  # generate with the local simulator instead of Kling
    # Export
    export_strategy: str = defaults.EXPORT_STRATEGY.value
    export_duration: float = defaults.LOOP_DURATION_S
    export_format: str = defaults.EXPORT_FORMAT
    export_quality: str = defaults.EXPORT_QUALITY
    export_folder: str = ""  # empty = next to the source video
    # Timeline
    snap_to_apex: bool = True
    show_landmarks: bool = False
    # Live preview: "auto", "gl" or "raster"; "raster" is remembered after OpenGL failed (ui/preview/view_factory.py)
    preview_backend: str = "auto"
    # Session
    recent_files: list = field(default_factory=list)
    last_project: str = ""
    reopen_last_project: bool = True
    window_geometry: str = ""  # base64 of QWidget.saveGeometry()
    window_state: str = ""  # base64 of QMainWindow.saveState()

    def add_recent(self, path: str | Path) -> None:
        text = str(Path(path).resolve())
        self.recent_files = [text] + [p for p in self.recent_files if p != text]
        del self.recent_files[MAX_RECENT:]


def settings_path() -> Path:
    return config_dir() / SETTINGS_FILE


def _coerce(value, default):
    """`value` as the type of `default`, or `default` when it can't be read as one."""
    kind = type(default)
    if kind is bool:
        return value if isinstance(value, bool) else default
    if kind is float:
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default
    if kind is int:
        return value if isinstance(value, int) and not isinstance(value, bool) else default
    if kind is list:
        return [str(v) for v in value] if isinstance(value, list) else default
    return value if isinstance(value, str) else default


def load_settings(path: Path | None = None) -> Settings:
    """The saved settings, or the defaults; a damaged file is logged and ignored, never fatal."""
    path = path or settings_path()
    defaults = Settings()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return defaults
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable settings file %s: %s", path, exc)
        return defaults
    if not isinstance(data, dict):
        return defaults
    values = {f.name: _coerce(data[f.name], getattr(defaults, f.name)) for f in fields(Settings) if f.name in data}
    return Settings(**values)


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    path = path or settings_path()
    data = {k: v for k, v in asdict(settings).items() if not any(w in k.lower() for w in _SECRET_WORDS)}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, strict_json.dumps(data, sort_keys=True))
    return path
