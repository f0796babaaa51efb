"""Undoable edits of the loop plan (Ctrl+Z / Ctrl+Shift+Z).

A drag changes the plan live without touching the stack and pushes one command when the mouse is
released, so undo restores the state from before the whole drag, not one pixel of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand

from ..core.loop_plan import LoopPlan

if TYPE_CHECKING:
    from .document import StudioDocument


class PlanEditCommand(QUndoCommand):
    """Replace the plan: redo sets `new`, undo restores `old`."""

    def __init__(self, document: "StudioDocument", old: LoopPlan | None, new: LoopPlan | None, text: str) -> None:
        super().__init__(text)
        self._document = document
        self.old = old
        self.new = new

    def redo(self) -> None:
        self._document.set_plan(self.new)

    def undo(self) -> None:
        self._document.set_plan(self.old)


class BlinkEditCommand(QUndoCommand):
    """Replace the blink corrections: redo sets `new`, undo restores `old` (both immutable snapshots)."""

    def __init__(self, document: "StudioDocument", old, new, text: str) -> None:
        super().__init__(text)
        self._document = document
        self.old = old
        self.new = new

    def redo(self) -> None:
        self._document.set_blink_edits(self.new)

    def undo(self) -> None:
        self._document.set_blink_edits(self.old)
