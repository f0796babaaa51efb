"""The views follow the document alone: change the document, each view shows it, with no controller at all."""

from __future__ import annotations

from studio_helpers import CLIP

from navtalk_desktop.core import media
from navtalk_desktop.core.analysis import analyze_video
from navtalk_desktop.core.blink_edits import BlinkEdits
from navtalk_desktop.core.loop_plan import make_plan
from navtalk_desktop.core.resources import sample_portrait
from navtalk_desktop.ui import plan_edits
from navtalk_desktop.ui.document import StudioDocument
from navtalk_desktop.ui.export_panel import ExportPanel
from navtalk_desktop.ui.frame_view import FrameView
from navtalk_desktop.ui.generate_panel import GeneratePanel
from navtalk_desktop.ui.source_panel import SourcePanel
from navtalk_desktop.ui.timeline import PORTRAIT_MESSAGE, TimelineWidget


def test_views_follow_the_document_with_no_controller(qtbot):
    doc = StudioDocument()
    timeline, frame_view, export_panel, source_panel = TimelineWidget(), FrameView(), ExportPanel(), SourcePanel()
    for view in (timeline, frame_view, export_panel, source_panel):
        qtbot.addWidget(view)
        view.observe(doc)

    doc.set_source(CLIP, "video")
    assert source_panel.name_label.text() == CLIP.name
    assert source_panel.facts_label.text() == "Reading the video…"

    info = media.probe(CLIP)
    doc.set_video_info(info)
    assert timeline.view_range == (0.0, float(info.frame_count)) and timeline.fps == float(info.fps)
    assert f"{info.frame_count}" in source_panel.facts_label.text()

    result = analyze_video(CLIP, info=info)
    doc.set_analysis(result, BlinkEdits())
    blinks = len(result.events)
    assert blinks >= 2
    assert source_panel.analysis_label.text().startswith(f"{blinks} blinks found")
    apex = result.best_blink().apex
    doc.set_playhead(apex)
    assert timeline.playhead == apex and frame_view.index == apex
    assert "apex" in frame_view.caption and f"frame {apex} " in frame_view.caption
    assert "loop point" not in frame_view.caption

    plan = make_plan("pingpong", info.fps, info.frame_count, apex, duration=2.0)
    doc.set_plan(plan)
    assert timeline.plan == plan
    assert export_panel.plan_label.text() == plan_edits.describe(plan) and export_panel.export_button.isEnabled()
    assert "loop point" in frame_view.caption  # the playhead sits on it: the caption follows the plan too

    deleted = sorted(e.apex for e in result.events)[0]  # a correction: the views show the corrected set
    doc.set_blink_edits(BlinkEdits(deleted=(deleted,)), store=False)
    assert source_panel.analysis_label.text().startswith(f"{blinks - 1} blink")

    doc.set_plan(None)
    assert timeline.plan is None and export_panel.plan_label.text() == "No loop yet: open a video."
    assert not export_panel.export_button.isEnabled()

    doc.set_source(sample_portrait(), "image")  # a portrait: the still, no caption, the timeline says why
    assert frame_view.current_image() is not None and frame_view.caption == ""
    assert timeline._message == PORTRAIT_MESSAGE and timeline.plan is None
    assert not source_panel.preflight_box.isHidden()


def test_the_generate_panel_names_the_documents_portrait(qtbot):
    doc, panel = StudioDocument(), GeneratePanel()
    qtbot.addWidget(panel)
    panel.observe(doc)
    portrait = sample_portrait()
    doc.set_source(portrait, "image")
    assert panel.status_label.text() == f"Portrait: {portrait.name}." and panel._has_portrait
    doc.set_source(CLIP, "video", keep_portrait=True)  # a clip generated from it keeps the portrait
    assert panel.status_label.text() == f"Portrait: {portrait.name}."
    doc.set_source(CLIP, "video")  # any other video drops it
    assert not panel._has_portrait and "Open a portrait" in panel.status_label.text()
    doc.set_portrait(portrait)  # a job's result, or a project, names it afterwards
    assert panel.status_label.text() == f"Portrait: {portrait.name}."
