"""Render the studio's main states to PNG for the README (`make screenshots`, under Xvfb).

States: empty window, image pre-flight (a portrait that needs a fix), generating (demo simulator),
timeline with blinks (the real fixture clip, eye landmarks on), an edited blink (handles, one-eye mark), export done,
the live preview speaking, the editor on a 1280×720 laptop screen while the plan plays, the seam view (onion
skin, side by side), and a crossfade with a blink inside its fade, zoomed in (frame numbers, the warning flag).
Every state is produced by driving the real window, with user folders in a temporary directory.

    xvfb-run -a python tools/screenshots.py [OUT_DIR]      (default docs/screenshots)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "tests" / "fixtures" / "liveportrait_d18.mp4"
SIZE = (1440, 900)


def main(argv: list[str]) -> int:
    out_dir = Path(argv[1]) if len(argv) > 1 else ROOT / "docs" / "screenshots"
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="navtalk-shots-"))
    for name in ("config", "data", "logs", "cache"):
        os.environ[f"NAVTALK_{name.upper()}_DIR"] = str(tmp / name)
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    os.environ.setdefault("GLOG_minloglevel", "2")

    from PIL import Image
    from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from navtalk_desktop.core.kling.client import PollPolicy
    from navtalk_desktop.core.resources import sample_portrait
    from navtalk_desktop.core.settings import Settings
    from navtalk_desktop.simulator import SimulatorConfig
    from navtalk_desktop.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(argv[:1])
    app.setApplicationName("NavTalk Loop Studio")

    def pump(max_ms: int = 0) -> None:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, max_ms)
        # processEvents outside app.exec() never runs deleteLater(): without this, a tab bar Qt has retired
        # stays on screen (a stray, clipped "Live Preview" tab beside the timeline in every screenshot)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)

    def wait(condition, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("a screenshot state was not reached in time")
            pump(50)
            time.sleep(0.02)

    def settle(seconds: float = 0.4) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pump()
            time.sleep(0.02)

    def shot(window, name: str) -> None:
        settle()
        path = out_dir / f"{name}.png"
        window.grab().save(str(path))
        print(f"wrote {path}")

    def new_window(settings: Settings) -> MainWindow:
        window = MainWindow(settings)
        window.ask_to_save = lambda: True
        window.resize(*SIZE)
        window.show()
        settle()
        return window

    # 1. empty
    window = new_window(Settings())
    window.start_background()
    shot(window, "01-empty")

    # 2. image pre-flight: a WebP portrait, which Kling refuses; the fix is offered
    webp = tmp / "portrait.webp"
    Image.open(sample_portrait()).convert("RGB").save(webp, "WEBP")
    window.open_path(webp)
    wait(lambda: window.source_panel.fix_button.isVisible())
    shot(window, "02-image-preflight")
    window.close()

    # 3. generating in demo mode
    window = new_window(Settings(demo_mode=True))
    window.generate.simulator_config = SimulatorConfig(submitted_seconds=1.0, processing_seconds=20.0)
    window.generate.poll_policy = PollPolicy(initial=0.5, factor=1.0, max_interval=0.5)
    window.open_path(sample_portrait())
    window.generate_dock.raise_()
    QTimer.singleShot(0, window.generate.generate)
    wait(lambda: "elapsed" in window.generate_panel.status_label.text() and
         window.generate_panel.progress_bar.value() > 30)
    shot(window, "03-generating")
    window.generate.cancel()
    wait(lambda: not window.runner.busy)
    window.close()

    # 4. the timeline with blinks, eye landmarks on
    window = new_window(Settings(show_landmarks=True))
    window.open_path(CLIP)
    wait(lambda: window.document.plan is not None and window.loop.preview is not None)
    wait(lambda: "Seam (predicted)" in window.export_panel.seam_label.text())
    shot(window, "04-timeline-blinks")

    # 4b. an edited blink: the second one marked one-eye (right), widened, selected (its handles show)
    doc, editor = window.document, window.blink_editor
    steps = doc.undo_stack.index()
    editor.select("d187")
    editor.set_kind("one_eye", "right")
    editor.active_handle = "end"
    editor.nudge(2)
    editor.select("d187")
    editor.active_handle = "end"
    window.timeline.set_view_range(150, 216)
    doc.set_playhead(187)
    shot(window, "07-blink-editing")
    doc.undo_stack.setIndex(steps)  # back to the detection for the export shot
    editor.select("")  # else d187's handles and dashed outline stay on in every later shot
    window.timeline.zoom_to_fit()

    # 5. export done
    window.export_panel.output_edit.setText(str(tmp / "liveportrait_d18_loop.mp4"))
    window.loop.export()
    wait(lambda: window.loop.last_export is not None)
    shot(window, "05-export-done")

    # 6. the live preview: the exported loop speaking (espeak-ng), mouth open, viseme label on
    panel = window.preview_panel
    panel.select_voice("espeak")
    window.preview_dock.raise_()
    exported = Path(window.loop.last_export.path)
    wait(lambda: panel.loop is not None and panel.loop.path == exported)
    panel.viseme_check.setChecked(True)
    panel.text_edit.setPlainText("Hello! I am your NavTalk avatar. Papa made a big map of the moon.")
    panel.speak()
    wait(lambda: panel.player.speaking and 0.4 < panel.player.current_params.jaw_open < 0.8)
    panel.player.pause()
    for _ in range(3):  # let the frame just drawn reach the screen
        pump()
    # From the screen, not window.grab(): QWidget.grab re-renders a QOpenGLWidget and loses what QPainter
    # drew over the GL image (the viseme label); the screen shows what the user sees.
    path = out_dir / "06-live-preview.png"
    window.screen().grabWindow(window.winId()).save(str(path))
    print(f"wrote {path}")
    panel.stop()
    # dismissed as a user would after reading it: the banner is about the Live Preview, the shots below are not
    window.message_bar.hide()
    window.statusBar().clearMessage()  # its first line, shown for 10 s: still up in the shots below otherwise

    # 7. a 1280x720 laptop: the editor playing the plan (Space), playhead following
    window.export_dock.raise_()
    window.resize(1280, 720)
    settle(0.6)
    window.timeline.setFocus()
    window.playback.play(1.0)
    settle(1.3)
    window.playback.stop()
    shot(window, "08-laptop-1280x720-playing")

    # 8. the seam view: last frame with the first at 50 % over it
    window.actions["playback.seam_view"].setChecked(True)
    window.seam_view.set_mode("onion")
    shot(window, "09-seam-view-onion")
    window.seam_view.set_mode("side")
    shot(window, "10-seam-view-side-by-side")
    window.actions["playback.seam_view"].setChecked(False)

    # 10. a crossfade whose fade holds the second blink: flagged; zoomed in, frame numbers on the ruler
    doc = window.document
    apex = max(doc.blink_apexes())
    from navtalk_desktop.core.loop_plan import make_plan

    info = doc.video_info
    plan = make_plan("crossfade", info.fps, info.frame_count, apex - 60, duration=2.0, before=0)
    doc.edit_plan(plan.with_window(apex - 66, apex + 2), "Crossfade ending on the blink")
    window.resize(1366, 768)
    settle(0.5)
    window.timeline.set_view_range(apex - 50, apex + 10)
    doc.set_playhead(apex)
    shot(window, "11-fade-warning-zoomed-1366x768")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
