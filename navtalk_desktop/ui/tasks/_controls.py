"""The action button, Cancel and progress bar that every panel running background work shows alike."""

from __future__ import annotations

from typing import Callable

from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QVBoxLayout

PROGRESS_STEPS = 1000  # progress bars count in permille: fine enough for byte and frame progress


def add_task_controls(layout: QVBoxLayout, action_text: str, on_action: Callable, on_cancel: Callable
                      ) -> tuple[QPushButton, QPushButton, QProgressBar]:
    """Add [action | Cancel] and a hidden progress bar to `layout`; Cancel starts hidden."""
    buttons = QHBoxLayout()
    action = QPushButton(action_text)
    action.clicked.connect(on_action)
    cancel = QPushButton("Cancel")
    cancel.clicked.connect(on_cancel)
    cancel.hide()
    buttons.addWidget(action, 1)
    buttons.addWidget(cancel)
    layout.addLayout(buttons)
    progress = QProgressBar()
    progress.setRange(0, PROGRESS_STEPS)
    progress.hide()
    layout.addWidget(progress)
    return action, cancel, progress
