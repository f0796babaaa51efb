"""The offer to re-detect the rest of the clip with thresholds fitted to this face (core/blink_refit.py).

After a few corrections the studio offers it once per clip in the message bar; the dialog lists what
would appear and vanish, and only "Apply" changes anything (one undo step).
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QListWidget, QVBoxLayout, QWidget

from ..core import blink_refit


class RefitDialog(QDialog):
    def __init__(self, proposal: blink_refit.Proposal, fps: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Re-detect blinks for this face")
        self.proposal = proposal
        layout = QVBoxLayout(self)
        lines = proposal.describe(fps)
        intro = QLabel("Re-detect the frames you have not corrected with rules fitted to your corrections?\n"
                       + lines[0])
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.changes = QListWidget()
        self.changes.addItems(lines[1:])
        layout.addWidget(self.changes)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Apply
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.apply_button = self.buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.apply_button.setEnabled(not proposal.empty)
        self.apply_button.clicked.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)


class RefitOffer:
    """Offers the refit once per clip when enough corrections exist; runs the dialog on request."""

    def __init__(self, window) -> None:
        self.window, self.doc = window, window.document
        self.offered_for = ""
        self.dialog: RefitDialog | None = None
        self.doc.blinks_changed.connect(self._maybe_offer)

    def _maybe_offer(self, analysis) -> None:
        from ..core.blink_store import content_hash_of

        key = content_hash_of(analysis) or str(self.doc.source_path)
        if key == self.offered_for or not blink_refit.can_refit(analysis):
            return
        self.offered_for = key
        self.window.message_bar.show_message(
            f"{analysis.edits.count} blink corrections: re-detect the rest of the clip with thresholds fitted "
            f"to this face?", "info", "Show changes…", self.open_dialog)

    def open_dialog(self) -> RefitDialog | None:
        analysis = self.doc.analysis
        if analysis is None:
            return None
        self.dialog = RefitDialog(blink_refit.propose(analysis), analysis.fps, self.window)
        self.dialog.accepted.connect(self._apply)
        self.dialog.open()
        return self.dialog

    def _apply(self) -> None:
        proposal = self.dialog.proposal
        self.doc.edit_blinks(blink_refit.apply_proposal(self.doc.blink_edits, proposal),
                             "Re-detect blinks with fitted thresholds")
