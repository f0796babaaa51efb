"""The seam report's warnings reach the studio: the plan panel lists them, the timeline flags and underlines them.

Real window, real clip: on liveportrait_d12.mp4 the head moves, so a crossfade over the window `auto` chose for
its morph draws a double image (docs/seam-report.md); the morph over the same frames does not.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PySide6.QtGui import QImage

from navtalk_desktop.core.seam import GHOST_VISIBLE
from navtalk_desktop.ui import timeline_marks
from navtalk_desktop.ui import timeline_paint as paint
from studio_helpers import CLIP, open_and_wait_for_plan


def _pixels(widget) -> np.ndarray:
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    w, h = image.width(), image.height()
    return np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine())[:, :3 * w].reshape(h, w, 3)


def _predicted(qtbot, window, plan, text: str):
    with qtbot.waitSignal(window.loop.seam_predicted, timeout=30000,
                          check_params_cb=lambda report: window.document.plan == plan):
        window.document.edit_plan(plan, text)
    return window.loop.seam_report


def test_a_ghost_in_the_crossfade_is_listed_and_marked_and_the_morph_clears_it(qtbot, window):
    open_and_wait_for_plan(qtbot, window, CLIP.with_name("liveportrait_d12.mp4"))
    doc, timeline, panel = window.document, window.timeline, window.export_panel
    timeline.resize(1000, 300)
    timeline.zoom_to_fit()
    chosen = doc.plan
    assert chosen.strategy == "morph"
    crossfade = _predicted(qtbot, window, replace(chosen, strategy="crossfade"), "crossfade over the morph's frames")
    assert crossfade.ghost > GHOST_VISIBLE
    ghost = [w for w in timeline.warnings if w.kind == "ghost"]
    assert len(ghost) == 1
    lo, hi = ghost[0].span
    faded = doc.plan.faded_range
    assert faded[0] <= lo <= hi <= faded[1] and faded[0] <= ghost[0].frame <= faded[1]
    assert "double image in the crossfade" in panel.warnings_label.text()
    assert panel.warnings_label.isVisible()
    assert "listed below" in panel.seam_label.text() and f"ghost {crossfade.ghost:.2f}" in panel.seam_label.text()
    # on the timeline: the red strip over the ghost's frames, just above the fade strip, and the flag
    rgb = _pixels(timeline)
    rect = timeline.plot_rect()
    red = np.array([timeline_marks.COLOR.red(), timeline_marks.COLOR.green(), timeline_marks.COLOR.blue()])
    x = int(timeline.frame_to_x((lo + hi) / 2))
    strip = rgb[int(rect.bottom()) - 4 - timeline_marks.STRIP + 1:int(rect.bottom()) - 4, x].astype(int)
    assert (np.abs(strip - red).max(axis=1) <= 40).all(), strip
    outside = int(timeline.frame_to_x(doc.plan.first + 8))  # in the loop, outside the fades
    above_fade = rgb[int(rect.bottom()) - 6, outside].astype(int)
    assert np.abs(above_fade - red).max() > 60
    assert timeline.warning_at(timeline.frame_to_x(ghost[0].frame)) is not None
    assert "warning (hover)" in [label for _k, _c, label in paint.legend_items(timeline)]
    # the morph over the same frames: no ghost, no mark
    morph = _predicted(qtbot, window, chosen, "back to the morph")
    assert morph.ghost < GHOST_VISIBLE
    assert not [w for w in timeline.warnings if w.kind == "ghost"]
    assert "double image" not in panel.warnings_label.text()


def test_the_exported_files_own_warnings_join_the_plans_once():
    """A keyframe pulse shows only in the file: the last export's report adds it; what both name is listed once."""
    from navtalk_desktop.core.loop_plan import LoopPlan
    from navtalk_desktop.core.seam import SeamWarning
    from navtalk_desktop.ui import plan_warnings

    plan = LoopPlan("crossfade", 25, 1, 150, 20, 119, 60, 10)

    class Report:
        def __init__(self, warnings):
            self.warnings = warnings

    ghost = SeamWarning("ghost", [92, 93], "double image in the crossfade", 112, (112, 113))
    pulse = SeamWarning("pulse", [99, 0], "keyframe pulse at the wrap", 20)
    found = plan_warnings.plan_warnings(plan, [], Report([ghost]), Report([ghost, pulse]))
    assert [(w.kind, w.frame, w.span) for w in found] == [("pulse", 20, None), ("ghost", 112, (112, 113))]
    assert found[0].message == "in the exported file: keyframe pulse at the wrap"
    assert timeline_marks.spans(found) == [(112, 113)]
    # a sidecar's dicts read the same way
    as_dicts = Report([{"kind": "pulse", "frames": [99, 0], "message": "m", "source_frame": 20, "source_span": None}])
    assert [(w.kind, w.frame) for w in plan_warnings.report_warnings(as_dicts)] == [("pulse", 20)]
