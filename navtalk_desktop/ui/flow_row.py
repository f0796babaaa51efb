"""A row of tools that wraps onto more rows when it is narrow (superqt's QFlowLayout), sized honestly."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget
from superqt import QFlowLayout


class FlowRow(QWidget):
    """A row of tools in a flow layout that asks for the height its wrapped rows need (a splitter and a
    box layout only read minimum sizes, not height-for-width)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.flow = QFlowLayout(self)
        self.flow.setContentsMargins(0, 0, 0, 0)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        needed = self.flow.heightForWidth(self.width())
        if needed > 0 and needed != self.minimumHeight():
            self.setMinimumHeight(needed)
