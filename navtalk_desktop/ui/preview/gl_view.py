"""The OpenGL preview: a QOpenGLWidget that blits the current frame from a texture, overlays drawn on top.

The texture is uploaded once per frame change, never per paint (a resize or an overlay change repaints
from the texture already on the GPU), and allocated once per frame size. Pattern verified in
docs/design-notes.md#gl-preview (pyqtgraph's RawImageGLWidget): QOpenGLTexture + QOpenGLTextureBlitter, QPainter
after the blit. When no context can be had (offscreen platform, broken driver) the widget says so with
`failed`, and the panel swaps in the raster view.
"""

from __future__ import annotations

import logging
import time

import numpy as np
from PySide6.QtCore import QEvent, QRect, QTimer, Signal
from PySide6.QtGui import QImage, QPainter
from PySide6.QtOpenGL import QOpenGLPixelTransferOptions, QOpenGLTexture, QOpenGLTextureBlitter
from PySide6.QtOpenGLWidgets import QOpenGLWidget
from PySide6.QtWidgets import QSizePolicy, QWidget

from .view_common import BACKGROUND, GL, SharedViewState, as_rgb_frame, paint_overlays

log = logging.getLogger(__name__)

GL_COLOR_BUFFER_BIT = 0x4000
GL_RENDERER = 0x1F01
#: How long after being shown the widget may stay without a context before it reports a failure.
CONTEXT_GRACE_MS = 1500
_STARTING_EVENTS = (QEvent.Type.Resize, QEvent.Type.Paint, QEvent.Type.Show)


class GLPreviewView(SharedViewState, QOpenGLWidget):
    backend = GL
    starting = Signal()  # about to create the GL context for the first time (a crash after this = bad driver)
    ready = Signal(str)  # first frame painted through OpenGL; the GL renderer's name
    failed = Signal(str)  # no usable OpenGL here; the reason

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(160, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Live preview")
        self._frame: np.ndarray | None = None
        self._index = -1
        self._dirty = False  # a new frame waits for upload
        self._overlay = ""
        self._placeholder = "No loop loaded"
        self._texture: QOpenGLTexture | None = None
        self._texture_size: tuple[int, int] | None = None
        self._blitter: QOpenGLTextureBlitter | None = None
        self._transfer = QOpenGLPixelTransferOptions()
        self._transfer.setAlignment(1)  # RGB rows are 3*w bytes: not always a multiple of 4
        self._initialized = False
        self._started = False
        self._ready = False
        self._failed = False
        self.renderer_name = ""
        self.paint_count = 0
        self.upload_count = 0
        self.last_paint_seconds = 0.0

    # --- the PreviewView interface ----------------------------------------------------------------
    def set_frame(self, frame: np.ndarray | None, index: int = -1) -> None:
        if frame is None:
            self._frame, self._index, self._dirty = None, -1, False
        else:
            self._frame, self._index, self._dirty = as_rgb_frame(frame), int(index), True
        self.update()

    def grab_image(self) -> QImage:
        """The rendered framebuffer read back from the GPU (what a pixel test must look at)."""
        return self.grabFramebuffer()

    @property
    def is_ready(self) -> bool:
        return self._ready

    # --- failure detection ------------------------------------------------------------------------------
    def event(self, event) -> bool:
        # The context is created and initializeGL runs inside the first Resize (or Paint) of a widget being
        # shown, before its showEvent: announce the attempt before Qt handles that event.
        if not self._started and event.type() in _STARTING_EVENTS:
            self._started = True
            self.starting.emit()
            QTimer.singleShot(CONTEXT_GRACE_MS, self._check_context)
        return super().event(event)

    def paintEvent(self, event) -> None:  # noqa: N802
        super().paintEvent(event)
        if not self._initialized and not self.isValid():
            self._fail("OpenGL is not available on this display (no context could be created)")

    def _check_context(self) -> None:
        if self.isVisible() and not self._initialized and not self.isValid():
            self._fail("OpenGL did not start on this display")

    def _fail(self, reason: str) -> None:
        if not self._failed:
            self._failed = True
            log.warning("OpenGL preview unavailable: %s", reason)
            self.failed.emit(reason)

    # --- GL ----------------------------------------------------------------------------------------------
    def initializeGL(self) -> None:  # noqa: N802
        self._initialized = True
        context = self.context()
        context.aboutToBeDestroyed.connect(self._release)  # the context changes when the widget is reparented
        raw = context.functions().glGetString(GL_RENDERER)
        self.renderer_name = raw if isinstance(raw, str) else ""
        self._texture, self._texture_size, self._blitter = None, None, None
        self._create_blitter()
        self._dirty = self._frame is not None  # a new context starts empty: upload again

    def _create_blitter(self) -> bool:
        blitter = QOpenGLTextureBlitter()
        if not blitter.create():
            self._fail("the OpenGL driver could not set up texture drawing")
            return False
        self._blitter = blitter
        return True

    def paintGL(self) -> None:  # noqa: N802
        started = time.perf_counter()
        functions = self.context().functions()
        functions.glClearColor(BACKGROUND.redF(), BACKGROUND.greenF(), BACKGROUND.blueF(), 1.0)
        functions.glClear(GL_COLOR_BUFFER_BIT)
        target = self.image_rect()
        if self._blitter is None and self._frame is not None and not self._failed:
            self._create_blitter()  # released while hidden: made again on the next paint
        has_frame = self._frame is not None and self._blitter is not None
        if has_frame:
            if self._dirty:
                self._upload(self._frame)
            ratio = self.devicePixelRatioF()
            device_target = QRect(round(target.x() * ratio), round(target.y() * ratio),
                                  round(target.width() * ratio), round(target.height() * ratio))
            viewport = QRect(0, 0, round(self.width() * ratio), round(self.height() * ratio))
            self._blitter.bind()
            self._blitter.blit(self._texture.textureId(),
                               QOpenGLTextureBlitter.targetTransform(device_target, viewport),
                               QOpenGLTextureBlitter.Origin.OriginTopLeft)
            self._blitter.release()
        painter = QPainter(self)
        paint_overlays(painter, self.rect(), target, self._overlay, self._placeholder, has_frame)
        painter.end()
        self.paint_count += 1
        self.last_paint_seconds = time.perf_counter() - started
        if not self._ready and self._blitter is not None:
            self._ready = True
            self.ready.emit(self.renderer_name)

    def _upload(self, frame: np.ndarray) -> None:
        h, w = frame.shape[:2]
        if self._texture is None or self._texture_size != (w, h):  # allocate once per size
            if self._texture is not None:
                self._texture.destroy()
            texture = QOpenGLTexture(QOpenGLTexture.Target.Target2D)
            texture.setFormat(QOpenGLTexture.TextureFormat.RGBA8_UNorm)
            texture.setSize(w, h)
            texture.setMinMagFilters(QOpenGLTexture.Filter.Linear, QOpenGLTexture.Filter.Linear)
            texture.setWrapMode(QOpenGLTexture.WrapMode.ClampToEdge)
            texture.allocateStorage(QOpenGLTexture.PixelFormat.RGB, QOpenGLTexture.PixelType.UInt8)
            self._texture, self._texture_size = texture, (w, h)
        # A buffer, never an int address: PySide6 reads the memory of the (contiguous) array directly.
        self._texture.setData(QOpenGLTexture.PixelFormat.RGB, QOpenGLTexture.PixelType.UInt8, frame.data,
                              self._transfer)
        self._dirty = False
        self.upload_count += 1

    def _release(self) -> None:
        """Free the texture and blitter while their context is current (at exit or before a reparent)."""
        if self._texture is None and self._blitter is None:
            return
        self.makeCurrent()
        if self._texture is not None:
            self._texture.destroy()
        if self._blitter is not None:
            self._blitter.destroy()
        self._texture, self._texture_size, self._blitter = None, None, None
        self._dirty = self._frame is not None
        self.doneCurrent()

    def release_gl(self) -> None:
        """Free the GPU objects now (they are made again if the widget paints once more)."""
        if self._initialized and self.isValid():
            self._release()

    def hideEvent(self, event) -> None:  # noqa: N802
        # Hidden = the window closes or the dock is closed: free the GPU objects while the context is still
        # there (at interpreter exit it may not be, and Qt warns about textures destroyed without a context).
        self.release_gl()
        super().hideEvent(event)
