"""Picks the preview view: OpenGL where it works, the raster QWidget everywhere else, and remembers failures.

Modelled on Anki's video-driver fallback (docs/design-notes.md#gl-fallback): `NAVTALK_PREVIEW=raster|gl`
forces a backend; otherwise a remembered failure, a platform without OpenGL (offscreen, minimal) or a
context that cannot be created gives the raster view, and the choice is stored in the settings
(`preview_backend`) so the next launch does not try again. A driver that crashes the process while the
context starts cannot report anything, so the settings say "probing" during that window: a launch that
finds "probing" knows the last attempt died and stays on raster.
"""

from __future__ import annotations

import logging
import os

from PySide6.QtGui import QGuiApplication, QOpenGLContext
from PySide6.QtWidgets import QWidget

from ...core.errors import NavTalkError
from ...core.settings import Settings, load_settings, save_settings
from .view_common import GL, RASTER, PreviewBackend, PreviewView

log = logging.getLogger(__name__)

ENV_VAR = "NAVTALK_PREVIEW"
AUTO = PreviewBackend.AUTO
PROBING = "probing"  # stored while the GL context starts for the first time
NO_GL_PLATFORMS = ("offscreen", "minimal")  # QOpenGLWidget is unsupported there (it even segfaults with DISPLAY set)


def gl_platform_supported() -> bool:
    return QGuiApplication.platformName() not in NO_GL_PLATFORMS


def can_create_gl_context() -> bool:
    """A real context creation; only meaningful on platforms that support QOpenGLWidget at all."""
    try:
        return bool(QOpenGLContext().create())
    except Exception as exc:  # noqa: BLE001 - a broken driver may raise anything through the binding
        log.warning("OpenGL context creation raised %s", exc)
        return False


def remember_backend(settings: Settings | None, value: str) -> None:
    """Store `value` now (not only at exit: the next launch must know even if this one crashes).

    Only this one field is written into the saved file, so unsaved edits of other settings are not
    frozen by it.
    """
    if settings is not None:
        settings.preview_backend = value
    try:
        stored = load_settings()
        if stored.preview_backend != value:
            stored.preview_backend = value
            save_settings(stored)
    except (OSError, NavTalkError) as exc:
        log.warning("could not remember the preview backend: %s", exc)


def choose_backend(settings: Settings) -> tuple[str, str]:
    """(backend, reason): which view to build, and why (for the status line and the log)."""
    forced = os.environ.get(ENV_VAR, "").strip().lower()
    platform = QGuiApplication.platformName()
    if forced == RASTER:
        return RASTER, f"raster view (forced by {ENV_VAR}=raster)"
    if forced == GL:
        if not gl_platform_supported():
            return RASTER, f"raster view: {ENV_VAR}=gl ignored, the {platform!r} platform has no OpenGL widgets"
        return GL, f"OpenGL view (forced by {ENV_VAR}=gl)"
    if forced not in ("", AUTO):
        log.warning("ignoring %s=%r (expected gl or raster)", ENV_VAR, forced)
    stored = settings.preview_backend
    if stored == RASTER:
        return RASTER, f"raster view (OpenGL failed on an earlier run; {ENV_VAR}=gl tries it again)"
    if stored == PROBING:
        remember_backend(settings, RASTER)
        return RASTER, "raster view (the OpenGL preview did not start on the last run)"
    if not gl_platform_supported():
        remember_backend(settings, RASTER)
        return RASTER, f"raster view (the {platform!r} platform has no OpenGL)"
    if not can_create_gl_context():
        remember_backend(settings, RASTER)
        return RASTER, "raster view (no OpenGL context could be created)"
    return GL, "OpenGL view"


def create_preview_view(settings: Settings | None = None, parent: QWidget | None = None) -> PreviewView:
    """The view to use here; `view.backend_reason` says why it was chosen."""
    settings = settings if settings is not None else load_settings()
    backend, reason = choose_backend(settings)
    if backend == GL:
        from .gl_view import GLPreviewView

        view = GLPreviewView(parent)
        previous = settings.preview_backend
        restored = AUTO if previous in (RASTER, PROBING) else previous
        view.starting.connect(lambda: remember_backend(settings, PROBING))
        # Once a frame went through GL the marker goes; a forced success also clears a remembered failure.
        view.ready.connect(lambda _name: remember_backend(settings, restored))
        view.failed.connect(lambda why: remember_backend(settings, RASTER))
    else:
        from .raster_view import RasterPreviewView

        view = RasterPreviewView(parent)
    view.backend_reason = reason
    log.info("live preview: %s", reason)
    return view


def create_raster_fallback(settings: Settings | None, reason: str, parent: QWidget | None = None) -> PreviewView:
    """The replacement when the GL view failed after it was created (the failure is already remembered)."""
    from .raster_view import RasterPreviewView

    remember_backend(settings, RASTER)
    view = RasterPreviewView(parent)
    view.backend_reason = f"raster view ({reason})"
    return view
