"""A status line that never grows: a fixed number of wrapped lines, the rest cut at a word, all of it in the tooltip."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget


class FittedLabel(QLabel):
    """A word-wrapped label of fixed height: text that needs more lines is cut at a word with "…".

    The whole text stays in the tooltip; the fit is redone whenever the label itself is resized.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.set_full_text(text)

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self._fit()

    def full_text(self) -> str:
        return self._full

    def _fit(self) -> None:
        width, room = max(1, self.width()), self.height()
        shown, words = self._full, self._full.split(" ")
        while len(words) > 1 and room > 0 and self.fontMetrics().boundingRect(
                0, 0, width, 10_000, Qt.TextFlag.TextWordWrap, shown).height() > room:
            words.pop()
            shown = " ".join(words) + " …"
        self.setText(shown)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit()
