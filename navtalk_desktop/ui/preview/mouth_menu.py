"""The preview panel's mouth choice: the generated mouth, or a folder of the user's PNG mouth patches.

Why in the panel: artists judge a stylised avatar with its own drawn mouths (docs/mouth-patches.md) before
shipping, the same set `navtalk-loop speak --patches` renders with. The choice stays for every loop the
panel shows until it is changed back.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMenu, QToolButton

from ...core.errors import InputError
from .loop_data import with_mouth


def use_patches(panel, folder: Path | None) -> bool:
    """Draw the mouth from `folder`'s patch set (None: the generated mouth). False (and why, in the status
    line) when the folder is not a valid set; the current mouth then stays."""
    folder = Path(folder) if folder is not None else None
    try:
        if panel.loop is not None:
            panel.loop = with_mouth(panel.loop, folder)
            panel.player.set_renderer(panel.loop.renderer)
        elif folder is not None:
            from ...core.mouth.patches import PatchLibrary

            PatchLibrary.load(folder)  # check it now, not when the next loop arrives
    except InputError as exc:
        panel._status(f"These mouth patches cannot be used: {exc}", "error")
        return False
    panel.patches = folder
    panel.mouth_button.setText("Mouth: patches" if folder else "Mouth: generated")
    panel._status(f"Mouth drawn from the PNG patches in {folder}." if folder else "Mouth generated from the loop.")
    return True


def make_mouth_button(panel) -> QToolButton:
    button = QToolButton()
    button.setText("Mouth: generated")
    button.setToolTip("Draw the talking mouth from the loop itself, or from a folder of PNG mouth patches "
                      "(one per viseme; see docs/mouth-patches.md)")
    button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
    menu = QMenu(button)
    menu.addAction("Generated from the loop", lambda: use_patches(panel, None))

    def choose() -> None:
        start = str(panel.patches or Path.home())
        folder = QFileDialog.getExistingDirectory(panel, "Folder of PNG mouth patches", start)
        if folder:
            use_patches(panel, Path(folder))

    menu.addAction("PNG patch folder…", choose)
    button.setMenu(menu)
    return button
