"""Benchmark of the live preview: time to show one loop frame with the mouth overlay, per backend.

For each frame size (720p, 1080p) and each view that works here (raster always; OpenGL under a display
with GL, e.g. `xvfb-run -a` with QT_QPA_PLATFORM=xcb), one step is what the player does per new frame:
draw the mouth pose on the loop frame (MouthRenderer) and the viseme label, hand the frame to the view,
paint it synchronously (for GL: texture upload, blit, overlay text, and glFinish so the GPU work counts).
Reported: p50 / p99 per step, against a baseline measured in the same run on the same view: the same
steps without the overlay (a new frame shown, no mouth, no label). The budget per frame is 1/fps
(40 ms at 25 fps); the view is 960x540, a typical preview size.

Run: .venv/bin/python bench/bench_preview.py               (offscreen: raster only)
     QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1280x1024x24" .venv/bin/python bench/bench_preview.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("GLOG_minloglevel", "2")

STEPS = 200
VIEW_SIZE = (960, 540)
BUDGET_MS = 40.0  # one frame at 25 fps


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def loop_frames(width: int, height: int):
    """Two distinct frames of the sample portrait at this size (a new frame every step), and their landmarks."""
    import numpy as np

    from navtalk_desktop.core.animator import fit_to_size, load_rgb
    from navtalk_desktop.core.landmarks import landmarks_of_image
    from navtalk_desktop.core.resources import sample_portrait

    frame = fit_to_size(load_rgb(sample_portrait()), width, height)
    points = landmarks_of_image(frame)
    if points is None:
        raise SystemExit("no face found in the sample portrait at this size")
    shifted = np.ascontiguousarray(np.clip(frame.astype(np.int16) + 3, 0, 255).astype(np.uint8))
    return [frame, shifted], np.stack([points, points])


def make_views(app):
    from PySide6.QtGui import QGuiApplication

    from navtalk_desktop.ui.preview.raster_view import RasterPreviewView
    from navtalk_desktop.ui.preview.view_factory import can_create_gl_context, gl_platform_supported

    views = [("raster", RasterPreviewView())]
    if gl_platform_supported() and can_create_gl_context():
        from navtalk_desktop.ui.preview.gl_view import GLPreviewView

        views.append(("gl", GLPreviewView()))
    else:
        print(f"(no OpenGL on QPA platform {QGuiApplication.platformName()!r}: raster only; "
              "run under xvfb-run with QT_QPA_PLATFORM=xcb for the GL view)")
    for _name, view in views:
        view.resize(*VIEW_SIZE)
        view.show()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        app.processEvents()
        if all(getattr(v, "is_ready", True) for _n, v in views):
            break
        time.sleep(0.01)
    return views


def paint_now(view) -> None:
    """One synchronous paint. QOpenGLWidget.repaint() is not synchronous (Qt composes GL widgets later), so
    the GL view renders into its framebuffer directly, then waits for the GPU (llvmpipe here) so its share
    of the work is counted, not deferred."""
    if view.backend == "gl":
        view.makeCurrent()
        view.paintGL()
        view.context().functions().glFinish()
        view.doneCurrent()
    else:
        view.repaint()


def run_steps(view, frames, renderer, poses, overlay: bool) -> tuple[list[float], list[float]]:
    totals, paints = [], []
    for i in range(STEPS + 10):
        t = time.perf_counter()
        frame = frames[i % 2]
        if overlay:
            frame = renderer.render(frame, i % 2, poses[i % len(poses)])
            view.set_overlay_text(poses[i % len(poses)].viseme)
        else:
            view.set_overlay_text("")
        view.set_frame(frame, i)
        paint_now(view)
        if i >= 10:  # warm-up: caches, texture allocation
            totals.append(time.perf_counter() - t)
            paints.append(view.last_paint_seconds)
    return totals, paints


def bench_size(views, width: int, height: int) -> None:
    from navtalk_desktop.core.mouth.params import viseme_params
    from navtalk_desktop.core.mouth.renderer import MouthRenderer
    from navtalk_desktop.core.speech.visemes import VISEMES

    frames, points = loop_frames(width, height)
    renderer = MouthRenderer(points)
    poses = [viseme_params(v, w) for v in VISEMES[1:] for w in (0.5, 1.0)]
    for name, view in views:
        base, base_paint = run_steps(view, frames, renderer, poses, overlay=False)
        over, over_paint = run_steps(view, frames, renderer, poses, overlay=True)
        b50, o50, o99 = statistics.median(base), statistics.median(over), percentile(over, 99)
        print(f"{name:6s} {width}x{height} -> {VIEW_SIZE[0]}x{VIEW_SIZE[1]}: frame with mouth overlay "
              f"p50 {o50 * 1000:6.2f} ms  p99 {o99 * 1000:6.2f} ms  (paint alone p50 "
              f"{statistics.median(over_paint) * 1000:5.2f} ms) | baseline frame only p50 {b50 * 1000:6.2f} ms "
              f"p99 {percentile(base, 99) * 1000:6.2f} ms | ratio {o50 / b50:5.2f}x | "
              f"{'within' if o99 * 1000 <= BUDGET_MS else 'OVER'} the {BUDGET_MS:.0f} ms frame budget at p99")


def main() -> int:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    views = make_views(app)
    for width, height in ((1280, 720), (1920, 1080)):
        bench_size(views, width, height)
    for _name, view in views:
        release = getattr(view, "release_gl", None)
        if release:
            release()
        view.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
