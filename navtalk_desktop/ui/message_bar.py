"""A dismissable message strip inside the window: errors say what happened and what to do next."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

_STYLES = {
    "error": "background:#5c1f24;color:#ffe3e3;border:1px solid #a33a43;",
    "warning": "background:#5a4512;color:#fff3d1;border:1px solid #a5801f;",
    "info": "background:#1f3a5c;color:#e3efff;border:1px solid #3a6aa3;",
}


class MessageBar(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action_button = QPushButton()
        self.action_button.hide()
        close = QToolButton()
        close.setText("✕")
        close.setToolTip("Dismiss")
        close.setAutoRaise(True)
        close.clicked.connect(self.hide)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action_button)
        layout.addWidget(close)
        self.level = ""
        self._action: Callable[[], None] | None = None
        self.action_button.clicked.connect(self._run_action)
        self.hide()

    def show_message(self, text: str, level: str = "error", action_text: str | None = None,
                     action: Callable[[], None] | None = None) -> None:
        self.level = level
        self.setStyleSheet(f"QFrame#messageBar{{{_STYLES.get(level, _STYLES['info'])}border-radius:4px;}}"
                           f"QLabel{{border:none;background:transparent;color:inherit;}}")
        self.label.setText(text)
        self._action = action
        self.action_button.setVisible(bool(action_text and action))
        if action_text:
            self.action_button.setText(action_text)
        self.show()

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""

    def _run_action(self) -> None:
        action = self._action
        self.hide()
        if action:
            action()
