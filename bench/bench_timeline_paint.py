"""Issue 12: the timeline paints a 10-minute clip's EAR curve without stalling.   target: paint p99 <= 16 ms

A real TimelineWidget (offscreen Qt) holds a 10-minute, 30 fps analysis (18 000 frames, both eyes and
the mean, a blink every ~4 s, face gaps); it is painted over and over as a user would look at it: the
whole clip, zoomed in, panned, while the playhead moves. Each paint is timed (QWidget.repaint, which
paints synchronously); the 5-second clip's paint time is the reference printed beside it.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from types import SimpleNamespace

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
TARGET_MS = 16.0


def fake_analysis(seconds: float, fps: float = 30.0):
    from navtalk_desktop.core.blinks import detect_blinks

    rng = np.random.default_rng(1)
    n = int(seconds * fps)
    t = np.arange(n) / fps
    base = 0.3 + 0.01 * np.sin(t / 7) + 0.004 * rng.normal(size=n)
    right, left = base.copy(), base + 0.003 * rng.normal(size=n)
    for apex in np.arange(2.0, seconds - 1, 4.1) * fps:
        a = int(apex)
        dip = np.array([0.05, 0.15, 0.22, 0.15, 0.05])
        right[a - 2:a + 3] -= dip
        left[a - 2:a + 3] -= dip
    for gap in np.arange(30, seconds, 97) * fps:  # the face leaves the frame now and then
        right[int(gap):int(gap) + 20] = np.nan
        left[int(gap):int(gap) + 20] = np.nan
    events, _ = detect_blinks(right, left, fps)
    return SimpleNamespace(ear_right=right, ear_left=left, ear_mean=(right + left) / 2, events=events,
                           frame_count=n, info=SimpleNamespace(fps=fps))


def paint_times(widget, frames: int) -> list[float]:
    from navtalk_desktop.core.loop_plan import make_plan

    widget.set_plan(make_plan("crossfade", 30, frames, frames // 2, duration=4.0))
    times = []
    views = [(0, frames)] * 40
    for k in range(60):  # zoom in step by step around the middle, then pan across the clip
        width = frames * 0.85 ** k
        views.append((frames / 2 - width / 2, frames / 2 + width / 2))
    views += [(s, s + frames / 8) for s in np.linspace(0, frames * 7 / 8, 100)]
    for k, (a, b) in enumerate(views):
        widget.set_view_range(a, b)
        widget.set_playhead(int((a + b) / 2) + k % 7)
        start = time.perf_counter()
        widget.repaint()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> int:
    from PySide6.QtWidgets import QApplication

    from navtalk_desktop.ui.timeline import TimelineWidget

    app = QApplication.instance() or QApplication(sys.argv)
    results = {}
    for label, seconds in (("5 s clip", 5.0), ("10 min clip", 600.0)):
        widget = TimelineWidget()
        widget.resize(1600, 320)
        widget.show()
        app.processEvents()
        widget.set_analysis(fake_analysis(seconds))
        paint_times(widget, int(seconds * 30))  # warm-up (fonts, caches)
        times = sorted(paint_times(widget, int(seconds * 30)))
        results[label] = times
        p99 = times[int(0.99 * (len(times) - 1))]
        print(f"{label:12s} {len(times)} paints at 1600x320: median {statistics.median(times):5.2f} ms, "
              f"p99 {p99:5.2f} ms, max {times[-1]:5.2f} ms")
        widget.close()
    long = results["10 min clip"]
    p99 = long[int(0.99 * (len(long) - 1))]
    ratio = p99 / max(1e-6, statistics.median(results["5 s clip"]))
    print(f"10-minute clip paint p99 {p99:.2f} ms (target <= {TARGET_MS:g} ms) {'OK' if p99 <= TARGET_MS else 'SLOW'}; "
          f"{ratio:.2f}x the 5 s clip's median paint")
    return 0 if p99 <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
