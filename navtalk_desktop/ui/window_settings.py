"""The window's side of the typed settings: defaults into the panels, changed defaults applied at once,
and what closing the window remembers (geometry, dock layout, last project, last export choices)."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.errors import NavTalkError
from ..core.project import ExportSettings
from ..core.settings import Settings, save_settings

if TYPE_CHECKING:
    from .main_window import MainWindow

log = logging.getLogger(__name__)


def default_export_settings(s: Settings) -> ExportSettings:
    return ExportSettings(strategy=s.export_strategy, duration=s.export_duration, format=s.export_format,
                          quality=s.export_quality)


def apply_new_defaults(window: "MainWindow", before: Settings) -> None:
    """Defaults changed in the Settings dialog take effect in the panels at once.

    Closing the window saves the Export panel's choices as the next defaults, so a new default the panel
    did not show would otherwise be overwritten by the old one on the way out.
    """
    s = window.settings
    if ((before.default_model, before.default_mode, before.default_duration)
            != (s.default_model, s.default_mode, s.default_duration) and not window.runner.running("generate")):
        window.generate_panel.set_settings(dataclasses.replace(
            window.generate_panel.settings(), model=s.default_model, mode=s.default_mode,
            duration=s.default_duration))
        window.document.generation = window.generate_panel.settings()
    old = (before.export_strategy, before.export_duration, before.export_format, before.export_quality)
    new = (s.export_strategy, s.export_duration, s.export_format, s.export_quality)
    if old == new or window.runner.running("export"):
        return
    current = window.export_panel.settings()
    output = str(Path(current.output).with_suffix("." + s.export_format)) if current.output else ""
    window.export_panel.set_settings(dataclasses.replace(
        current, strategy=s.export_strategy, duration=s.export_duration, format=s.export_format,
        quality=s.export_quality, output=output))
    window.document.export = window.export_panel.settings()
    window.document.mark_modified()
    if old[:2] != new[:2] and window.document.plan is not None:
        window.loop.replan("Change loop defaults")  # the open loop follows the new strategy / duration


def save_on_close(window: "MainWindow") -> None:
    s = window.settings
    s.window_geometry = bytes(window.saveGeometry().toBase64()).decode("ascii")
    s.window_state = bytes(window.saveState().toBase64()).decode("ascii")
    if window.document.project_path is not None:
        s.last_project = str(window.document.project_path)
    export = window.export_panel.settings()
    s.export_strategy, s.export_duration = export.strategy, export.duration
    s.export_format, s.export_quality = export.format, export.quality
    try:
        save_settings(s)
    except (NavTalkError, OSError) as exc:
        log.warning("settings not saved: %s", exc)
