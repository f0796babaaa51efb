"""The studio's central editor: message strip, frame view (or seam view), the timeline and its tool row.

The tool row is a flow layout (superqt's QFlowLayout): on a narrow window its tools wrap onto a second
row instead of being cut off; the shortcut hint is an eliding label with the full list in its tooltip.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QSplitter, QStackedWidget, QToolButton, QVBoxLayout, QWidget
from superqt import QElidingLabel

from .flow_row import FlowRow

from .frame_view import FrameView
from .message_bar import MessageBar
from .seam_view import SeamView
from .timeline import TimelineWidget

SHORTCUTS = ("Space play/pause · J/K/L shuttle back/stop/forward (again: faster) · Shift+Space play across the "
             "seam · ←/→ frame · Shift 10 frames · Ctrl blink · Home/End · I/O loop start/end · P loop point "
             "at playhead · S seam view · +/−/1/0 frame zoom · F fit timeline · wheel zoom")


class EditorArea(QWidget):
    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.message_bar = MessageBar()
        layout.addWidget(self.message_bar)
        self.frame_view = FrameView()
        self.frame_view.observe(document)
        self.seam_view = SeamView(document)
        self.view_stack = QStackedWidget()
        self.view_stack.addWidget(self.frame_view)
        self.view_stack.addWidget(self.seam_view)
        self.view_stack.setMinimumSize(200, 150)
        self.timeline = TimelineWidget()
        self.timeline.observe(document)

        self.tools = FlowRow()
        self.tools_layout = self.tools.flow
        self.snap_check = QCheckBox("Snap to blinks")
        self.landmarks_check = QCheckBox("Eye landmarks")
        self.lock_check = QCheckBox("Lock length")
        self.lock_check.setChecked(True)
        self.lock_check.setToolTip("Dragging a loop edge keeps the loop's duration: the other edge follows. "
                                   "Unlock to change the length by dragging.")
        self.hint = QElidingLabel(SHORTCUTS)
        self.hint.setToolTip(SHORTCUTS.replace(" · ", "\n"))
        self.hint.setStyleSheet("color:#9aa0aa")
        self.hint.setMinimumWidth(40)

        timeline_box = QWidget()
        tl = QVBoxLayout(timeline_box)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.setSpacing(2)
        tl.addWidget(self.tools)
        tl.addWidget(self.hint)
        tl.addWidget(self.timeline, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.view_stack)
        splitter.addWidget(timeline_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([480, 300])
        layout.addWidget(splitter, 1)
        self.lock_check.toggled.connect(lambda on: self.set_lock_length(document, on))

    def set_lock_length(self, document, on: bool) -> None:
        document.lock_length = on
        self.timeline.lock_length = on

    def fill_tools(self, play, play_seam, seam_view, fit) -> None:
        """The row above the timeline: transport first (it must never overflow), then the toggles."""
        self.tool_buttons = {}
        for action in (play, play_seam, seam_view, fit):
            button = QToolButton()
            button.setDefaultAction(action)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space stays the play key, never "press button"
            self.tool_buttons[action.text()] = button
            self.tools_layout.addWidget(button)
        for box in (self.lock_check, self.snap_check, self.landmarks_check):
            box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self.tools_layout.addWidget(box)

    def show_seam_view(self, on: bool) -> None:
        self.view_stack.setCurrentWidget(self.seam_view if on else self.frame_view)
        if on:
            self.seam_view.refresh()
