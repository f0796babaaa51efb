"""`navtalk-studio [FILE]`: start the studio window.

Only Qt and light modules are imported before the window shows; MediaPipe, OpenCV, SciPy and FFmpeg load
later inside background tasks. Unexpected exceptions reach the user as a dialog (and the log), not a
silent crash. `--export OUT --quit` runs open → analyse → export unattended (automation and smoke tests).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import traceback
from pathlib import Path

from ..frozen import guard_std_streams

T0 = time.perf_counter()
log = logging.getLogger("navtalk_desktop.ui")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="navtalk-studio", description="NavTalk Loop Studio window.")
    parser.add_argument("file", nargs="?", help="a portrait image, a video or a project file to open")
    parser.add_argument("--sample", action="store_true", help="open the bundled sample portrait")
    parser.add_argument("--generate", action="store_true", help="start generating a clip of the portrait FILE")
    parser.add_argument("--export", metavar="OUT",
                        help="export the automatic loop of the first video that opens (FILE, or a resumed job's "
                             "video) to OUT")
    parser.add_argument("--quit", action="store_true", help="quit after --export (exit code 0 on success)")
    parser.add_argument("--no-restore", action="store_true", help="do not reopen the last project")
    parser.add_argument("--quit-when-shown", action="store_true", help=argparse.SUPPRESS)  # start-up benchmark
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    return parser


def install_exception_hook(window_getter) -> None:
    """Uncaught exceptions on the GUI thread: log them and tell the user, instead of dying silently."""
    from PySide6.QtWidgets import QApplication, QMessageBox

    previous = sys.excepthook
    showing = [False]

    def hook(exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            previous(exc_type, exc, tb)
            return
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        log.error("unexpected error:\n%s", details)
        app = QApplication.instance()
        if app is None or showing[0]:
            sys.stderr.write(details)
            return
        showing[0] = True
        try:
            from ..core.logs import log_file

            box = QMessageBox(QMessageBox.Icon.Critical, "Unexpected error",
                              f"Something went wrong: {exc_type.__name__}: {exc}\n\nYour work is still open; "
                              f"save the project and restart if the window misbehaves. The details are in "
                              f"{log_file()}.", QMessageBox.StandardButton.Ok, window_getter())
            box.setDetailedText(details)
            box.exec()
        finally:
            showing[0] = False

    sys.excepthook = hook


def main(argv: list[str] | None = None) -> int:
    guard_std_streams()
    args = build_parser().parse_args(argv)
    if args.version:
        from .. import __version__

        print(f"navtalk-studio {__version__}")
        return 0
    if args.quit and not args.export:
        print("navtalk-studio: error: --quit needs --export OUT", file=sys.stderr)
        return 2
    if args.generate and not args.file:
        print("navtalk-studio: error: --generate needs a portrait FILE", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        from ..core.logs import setup_file_logging

        setup_file_logging()
    except OSError as exc:  # a read-only home must not stop the app
        log.warning("no log file: %s", exc)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("NavTalk Loop Studio")
    app.setOrganizationName("NavTalk")
    app.setDesktopFileName("navtalk-studio")

    from .main_window import MainWindow

    window = MainWindow()
    install_exception_hook(lambda: window)
    exit_code = [0]

    if args.quit_when_shown:
        def report_shown() -> None:
            print(f"window shown after {time.perf_counter() - T0:.3f} s (since app module import)", flush=True)
            window.ask_to_save = lambda: True
            QTimer.singleShot(0, window.close)

        window.shown.connect(report_shown)

    if args.export:
        _script_export(window, Path(args.export), args.quit, exit_code)

    window.show()
    target = args.file or (str(_sample()) if args.sample else "")
    if not args.quit_when_shown:
        QTimer.singleShot(0, window.start_background)  # job list, resume unfinished generations
    if target:
        def open_target() -> None:
            if window.open_path(target) and args.generate:
                window.generate.generate()

        QTimer.singleShot(0, open_target)
    elif not args.no_restore and not args.quit_when_shown:
        QTimer.singleShot(0, lambda: _reopen_last_project(window))
    code = app.exec()
    return exit_code[0] or code


def _sample() -> Path:
    from ..core.resources import sample_portrait

    return sample_portrait()


def _reopen_last_project(window) -> None:
    settings = window.settings
    last = settings.last_project
    if settings.reopen_last_project and last and Path(last).is_file():
        window.open_project(Path(last))


def _script_export(window, out: Path, quit_after: bool, exit_code: list[int]) -> None:
    """open → analyse → automatic plan → export to `out`, reporting on stdout/stderr."""
    from PySide6.QtWidgets import QApplication

    window.ask_to_save = lambda: True
    started = [False]

    def on_plan(plan) -> None:
        if not started[0]:
            started[0] = True
            print(f"plan: {plan.strategy} frames {plan.first}-{plan.last} ({plan.output_frames} frames)", flush=True)
            window.loop.export(out)

    def on_exported(result) -> None:
        if result is None:
            exit_code[0] = 1
            print("navtalk-studio: error: export did not complete", file=sys.stderr)
        else:
            print(f"exported {result.path} ({result.report.frame_count} frames): {result.report.verdict()}",
                  flush=True)
        if quit_after:
            window.close()
            QApplication.instance().exit(exit_code[0])

    def on_message(text: str, level: str) -> None:
        if level == "error":
            print(f"navtalk-studio: error: {text}", file=sys.stderr, flush=True)
            exit_code[0] = 1
            if quit_after:
                window.close()
                QApplication.instance().exit(1)

    window.loop.plan_ready.connect(on_plan)
    window.loop.export_finished.connect(on_exported)
    window.loop.message.connect(on_message)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
