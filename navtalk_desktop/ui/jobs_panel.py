"""The Jobs panel: every generation job from the store with its state; Open a finished one in one click."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

COLUMNS = ("#", "Started", "State", "Model", "Portrait", "")

_STATE_TEXT = {
    "creating": "submitting",
    "polling": "generating",
    "downloading": "downloading",
    "done": "done",
    "failed": "failed",
}


def job_state_text(job, running: bool) -> str:
    text = _STATE_TEXT.get(job.stage, job.stage)
    if job.stage == "polling" and job.task_status:
        text = f"generating ({job.task_status})"
    if job.resumable and not running:
        text += " · paused" if job.error_kind == "CancelledError" else " · waiting to resume"
    return text


class JobsPanel(QWidget):
    open_requested = Signal(int)  # job id: open its video
    resume_requested = Signal(int)  # job id
    refresh_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.cellDoubleClicked.connect(self._double_clicked)
        layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.summary_label = QLabel("No jobs yet.")
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh_requested)
        row.addWidget(self.summary_label, 1)
        row.addWidget(refresh)
        layout.addLayout(row)
        self._jobs: list = []

    def set_jobs(self, jobs: list, running_ids: set[int]) -> None:
        self._jobs = list(jobs)
        self.table.setRowCount(len(jobs))
        for r, job in enumerate(jobs):
            started = time.strftime("%d %b %H:%M", time.localtime(job.created_at))
            state = job_state_text(job, job.id in running_ids)
            model = job.model.removeprefix("kling-")
            values = (str(job.id), started, state, f"{model} {job.mode} {job.duration}s",
                      Path(job.source_image).name)
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, job.id)
                if job.stage == "failed" and job.error_message:
                    item.setToolTip(job.error_message)
                self.table.setItem(r, c, item)
            self.table.setCellWidget(r, 5, self._action_button(job, job.id in running_ids))
        done = sum(j.stage == "done" for j in jobs)
        waiting = sum(j.resumable for j in jobs)
        self.summary_label.setText(f"{len(jobs)} job{'s' if len(jobs) != 1 else ''}: {done} done, "
                                   f"{waiting} unfinished" if jobs else "No jobs yet.")

    def _action_button(self, job, running: bool) -> QWidget | None:
        if job.stage == "done":
            button = QPushButton("Open")
            button.setToolTip("Open this job's video in the timeline")
            button.clicked.connect(lambda _c=False, i=job.id: self.open_requested.emit(i))
            return button
        if job.resumable and not running:
            button = QPushButton("Resume")
            button.clicked.connect(lambda _c=False, i=job.id: self.resume_requested.emit(i))
            return button
        return None

    def _double_clicked(self, row: int, _column: int) -> None:
        if 0 <= row < len(self._jobs) and self._jobs[row].stage == "done":
            self.open_requested.emit(self._jobs[row].id)

    def row_of(self, job_id: int) -> int:
        return next((r for r, j in enumerate(self._jobs) if j.id == job_id), -1)

    def state_of(self, job_id: int) -> str:
        row = self.row_of(job_id)
        return self.table.item(row, 2).text() if row >= 0 else ""
