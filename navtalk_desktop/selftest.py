"""`navtalk-studio --self-test` / `navtalk-loop self-test`: prove this install works, frozen or not, as JSON.

Freezing breaks things silently: a model file, a Qt plugin, a shared library or package metadata left out
of the bundle shows up only when the feature is used. Each check here uses the feature for real, the way
the app does (docs/design-notes.md#frozen-self-test), on the bundled sample, offline. The run uses private temporary
app folders, so it never reads or writes the user's settings, jobs, cache or logs.

Checks other than the Qt ones run in a worker thread with a timeout; Qt widgets must live on the main
thread, so the window and OpenGL checks run there. The exit code is 0 only if every check passed.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Callable

from .core import strict_json
from .frozen import bundle_dir, bundle_library_paths, in_bundle, is_frozen, loaded_library

DEFAULT_TIMEOUT_S = 120.0  # generous: a first MediaPipe load on a slow disk takes seconds, not minutes
SANDBOX_VARS = ("NAVTALK_DATA_DIR", "NAVTALK_CACHE_DIR", "NAVTALK_CONFIG_DIR", "NAVTALK_LOG_DIR")
NO_GL_PLATFORMS = ("offscreen", "minimal")
GL_TEST_COLOUR = (40, 200, 120)


class CheckFailed(Exception):
    """A check ran and found the feature broken; the message says what is wrong."""


class CheckTimedOut(CheckFailed):
    pass


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)



# --- checks that need no Qt -----------------------------------------------------------------------------
def require_clean_child_env() -> None:
    """Child processes must not inherit the bundle on their library path (see frozen.bundle_library_paths).

    Both the process environment (what third-party code such as pydub passes on, cleaned by the runtime
    hook packaging/rthooks/pyi_rth_navtalk_env.py) and `clean_env()` (the app's own ffmpeg calls) are checked.
    """
    from .core.ffmpeg import clean_env

    for name, env in (("process", os.environ), ("ffmpeg", clean_env())):
        leaked = bundle_library_paths(env)
        _require(not leaked, f"the {name} environment still points child processes at the bundle: {leaked}")


def std_streams() -> dict:
    """Whether sys.stdout/sys.stderr exist ("ok") or are None ("missing"), as in a windowed build before its guard."""
    return {name: "missing" if getattr(sys, name) is None else "ok" for name in ("stdout", "stderr")}


def check_bundle() -> dict:
    """Version from package metadata, bundled resources, clean child environment, excluded packages."""
    from importlib.metadata import PackageNotFoundError, version

    from . import __version__
    from .core.resources import resources_dir, sample_portrait

    try:
        meta_version = version("navtalk-desktop")
    except PackageNotFoundError as exc:
        raise CheckFailed("the package metadata of navtalk-desktop is missing (version unreadable)") from exc
    _require(meta_version == __version__, f"version mismatch: metadata {meta_version}, module {__version__}")
    _require(sample_portrait().is_file(), f"the sample portrait is missing from {resources_dir()}")
    details = {"version": meta_version, "resources": str(resources_dir()),
               "resources_in_bundle": in_bundle(resources_dir())}
    details["std_streams"] = std_streams()
    if bundle_dir() is not None:
        _require(bool(details["resources_in_bundle"]), "resources are read from outside the bundle")
        # A windowed build starts without stdout/stderr; the entry scripts must have replaced the None.
        missing = [name for name, state in details["std_streams"].items() if state == "missing"]
        _require(not missing, f"{' and '.join('sys.' + m for m in missing)} {'is' if len(missing) == 1 else 'are'} "
                              "None: the windowed-build guard in the entry script did not run")
        require_clean_child_env()
        details["child_env_clean"] = True
        excluded = {name: importlib.util.find_spec(name) is None for name in ("jax", "jaxlib")}
        _require(all(excluded.values()), f"packages meant to be left out are bundled: {excluded}")
        details["excluded"] = sorted(excluded)
    return details


def check_face_mesh() -> dict:
    """Face Mesh loads its graph and models and finds the face in the sample portrait (and none in grey)."""
    import numpy as np
    from PIL import Image

    import mediapipe

    from .core.landmarks import N_LANDMARKS, create_face_mesh, landmarks_of_image
    from .core.resources import sample_portrait

    rgb = np.asarray(Image.open(sample_portrait()).convert("RGB"))
    mesh = create_face_mesh(static=True)
    try:
        points = landmarks_of_image(rgb, mesh)
        blank = landmarks_of_image(np.full((256, 256, 3), 128, np.uint8), mesh)
    finally:
        mesh.close()
    _require(points is not None, "Face Mesh found no face in the bundled sample portrait")
    h, w = rgb.shape[:2]
    _require(points.shape == (N_LANDMARKS, 2) and bool(np.isfinite(points).all()),
             f"Face Mesh returned {points.shape} landmarks instead of ({N_LANDMARKS}, 2)")
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    _require(0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h, "the face landmarks fall outside the portrait")
    _require(blank is None, "Face Mesh reported a face in a plain grey frame")
    models = Path(mediapipe.__file__).parent / "modules" / "face_landmark"
    return {"mediapipe": mediapipe.__version__, "landmarks": int(points.shape[0]),
            "face_box": [round(float(v)) for v in (x0, y0, x1, y1)], "face_found_on_blank": False,
            "models_in_bundle": in_bundle(models)}


def check_ffmpeg() -> dict:
    """ffmpeg runs, encodes a short clip, and the loop export turns it into an exact ping-pong loop."""
    import subprocess

    from .core import ffmpeg, media
    from .core.export import export_loop
    from .core.loop_plan import make_plan

    proc = ffmpeg.popen(["-version"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=60)
    _require(proc.returncode == 0, f"ffmpeg -version failed: {err.strip()[-300:]}")
    with tempfile.TemporaryDirectory(prefix="navtalk-selftest-") as tmp:
        source, loop = Path(tmp) / "source.mp4", Path(tmp) / "loop.mp4"
        ffmpeg.run(["-y", "-f", "lavfi", "-i", "testsrc2=size=96x64:rate=25:duration=1.2", "-c:v", "libx264",
                    "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(source)], what="self-test clip")
        info = media.probe(source)
        plan = make_plan("pingpong", info.fps, info.frame_count, loop_point=info.frame_count // 2,
                         duration=0.8, before=0.2, after=0.2)
        result = export_loop(source, plan, loop, info=info, quality="small")
        looped = media.probe(loop)
    _require(looped.frame_count == plan.output_frames,
             f"the loop has {looped.frame_count} frames instead of {plan.output_frames}")
    if bundle_dir() is not None:
        require_clean_child_env()  # again, now that OpenCV (which edits LD_LIBRARY_PATH) is imported
    return {"version": out.splitlines()[0] if out else "", "exe": ffmpeg.ffmpeg_exe(),
            "exe_in_bundle": in_bundle(ffmpeg.ffmpeg_exe()), "source_frames": info.frame_count,
            "loop_frames": looped.frame_count, "loop_codec": looped.codec, "seam": result.report.verdict()}


def check_espeak() -> dict:
    """espeak-ng (library + voice data from espeakng-loader) speaks a word; phonemizer uses the same library."""
    import espeakng_loader

    from .core.speech import espeak_lib
    from .core.speech.phonemes import phonemize_words

    spoken = espeak_lib.synthesize("hello")
    seconds = len(spoken.samples) / spoken.sample_rate
    _require(seconds > 0.1 and int(abs(spoken.samples).max()) > 0, "espeak-ng produced no audio for 'hello'")
    _require(bool(spoken.phonemes), "espeak-ng reported no phoneme events for 'hello'")
    phones = phonemize_words(["hello"])
    _require(bool(phones and phones[0]), "phonemizer found no phonemes for 'hello'")
    library = espeakng_loader.get_library_path()
    return {"audio_seconds": round(seconds, 3), "sample_rate": spoken.sample_rate,
            "phonemes": "".join(p.name for p in spoken.phonemes if p.name), "phonemizer": " ".join(phones[0]),
            "library": library, "library_in_bundle": in_bundle(library),
            "data_in_bundle": in_bundle(espeakng_loader.get_data_path())}


def check_portaudio() -> dict:
    """PortAudio loads through sounddevice; a machine without audio devices (CI) is fine."""
    import sounddevice

    version = sounddevice.get_portaudio_version()[1]
    devices = len(sounddevice.query_devices())
    library = loaded_library("libportaudio") or getattr(sounddevice, "_libname", "")
    details = {"version": version, "devices": devices, "library": library, "library_in_bundle": in_bundle(library)}
    if is_frozen() and sys.platform.startswith("linux") and loaded_library("libportaudio"):
        _require(bool(details["library_in_bundle"]), f"PortAudio was loaded from outside the bundle: {library}")
    return details


def check_keyring() -> dict:
    """The keyring backends are importable (entry-point metadata bundled) and one is selected.

    Only the backend is looked up; no password is read, so no unlock prompt can appear.
    """
    import keyring
    import keyring.backend

    selected = keyring.get_keyring()
    known = sorted(f"{c.__module__}.{c.__name__}" for c in keyring.backend.KeyringBackend._classes)
    native = {"linux": "keyring.backends.SecretService.Keyring", "win32": "keyring.backends.Windows.WinVaultKeyring",
              "darwin": "keyring.backends.macOS.Keyring"}.get("linux" if sys.platform.startswith("linux")
                                                               else sys.platform)
    if native:
        _require(native in known, f"the native keyring backend {native} is not available (backends: {known})")
    name = f"{type(selected).__module__}.{type(selected).__name__}"
    return {"backend": name, "usable": name != "keyring.backends.fail.Keyring", "known_backends": known}


# --- checks on the Qt main thread ---------------------------------------------------------------------------
def check_main_window(app) -> dict:
    """The studio window constructs (not shown) and closes cleanly."""
    from .ui.main_window import MainWindow

    window = MainWindow()
    try:
        title = window.windowTitle()
        _require("NavTalk" in title, f"unexpected window title {title!r}")
        _require(window.centralWidget() is not None, "the window has no central widget")
        from PySide6.QtWidgets import QDockWidget

        docks = sorted(d.windowTitle() for d in window.findChildren(QDockWidget))
    finally:
        window.ask_to_save = lambda: True
        window.close()
        window.deleteLater()
        app.processEvents()
    return {"title": title, "docks": docks}


def check_gl(app, timeout: float) -> dict:
    """The live preview's OpenGL view paints a frame through a real context and reads the colour back."""
    from PySide6.QtGui import QGuiApplication

    platform_name = QGuiApplication.platformName()
    if platform_name in NO_GL_PLATFORMS:
        return {"skipped": f"the {platform_name!r} platform has no OpenGL widgets (run under a desktop or Xvfb)",
                "platform": platform_name}
    import numpy as np

    from .ui.preview.gl_view import GLPreviewView

    view = GLPreviewView()
    failures: list[str] = []
    view.failed.connect(failures.append)
    frame = np.empty((48, 64, 3), np.uint8)
    frame[:] = GL_TEST_COLOUR
    view.set_frame(frame, 0)
    view.resize(128, 96)
    try:
        view.show()
        deadline = time.monotonic() + timeout
        while not view.is_ready and not failures and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.005)
        _require(not failures, f"OpenGL failed: {failures[0] if failures else ''}")
        _require(view.is_ready, f"no frame was painted through OpenGL within {timeout:g} s")
        image = view.grab_image()
        colour = image.pixelColor(image.width() // 2, image.height() // 2)
        got = (colour.red(), colour.green(), colour.blue())
        _require(all(abs(a - b) <= 8 for a, b in zip(got, GL_TEST_COLOUR)),
                 f"the OpenGL view shows {got} where the frame is {GL_TEST_COLOUR}")
        return {"platform": platform_name, "renderer": view.renderer_name, "pixel": list(got)}
    finally:
        view.release_gl()
        view.close()
        view.deleteLater()
        app.processEvents()


# --- running -------------------------------------------------------------------------------------------------
WORKER_CHECKS: tuple[tuple[str, Callable[[], dict]], ...] = (
    ("bundle", check_bundle),
    ("face_mesh", check_face_mesh),
    ("ffmpeg", check_ffmpeg),
    ("espeak", check_espeak),
    ("portaudio", check_portaudio),
    ("keyring", check_keyring),
)


def run_with_timeout(func: Callable[[], dict], timeout: float) -> dict:
    """Run `func` in a daemon thread; a hang becomes a CheckTimedOut instead of a stuck self-test."""
    box: dict = {}

    def target() -> None:
        try:
            box["value"] = func()
        except BaseException as exc:  # noqa: BLE001 - reported, never swallowed
            box["error"] = exc

    thread = threading.Thread(target=target, name=f"self-test {getattr(func, '__name__', 'check')}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise CheckTimedOut(f"did not finish within {timeout:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def run_check(name: str, func: Callable[[], dict], timeout: float | None) -> dict:
    """One check's JSON entry: ok, seconds, its details, and the error when it failed."""
    started = time.perf_counter()
    try:
        details = run_with_timeout(func, timeout) if timeout else func()
        entry = {"ok": True, **details}
    except CheckFailed as exc:
        entry = {"ok": False, "error": str(exc), "timed_out": isinstance(exc, CheckTimedOut)}
    except Exception as exc:  # noqa: BLE001 - an unexpected crash of a check is a failed check
        entry = {"ok": False, "error": f"{type(exc).__name__}: {exc}",
                 "traceback": traceback.format_exc(limit=8).splitlines()[-8:]}
    entry["seconds"] = round(time.perf_counter() - started, 3)
    return {"name": name, **entry}


def _prepare_environment(sandbox: Path) -> None:
    """Private app folders, quiet MediaPipe logging, and a Qt platform that works without a display."""
    for var in SANDBOX_VARS:
        os.environ[var] = str(sandbox / var.split("_")[1].lower())
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("NAVTALK_OFFLINE", "1")
    headless = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if sys.platform.startswith("linux") and headless and not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


def run_self_test(timeout: float = DEFAULT_TIMEOUT_S, qt: bool = True) -> dict:
    """Every check, in order; the report says whether all passed."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="navtalk-selftest-home-") as sandbox:
        _prepare_environment(Path(sandbox))
        results = [run_check(name, func, timeout) for name, func in WORKER_CHECKS]
        qt_platform = ""
        if qt:
            from PySide6.QtWidgets import QApplication

            app = QApplication.instance() or QApplication(["navtalk-studio"])
            qt_platform = app.platformName()
            results.append(run_check("main_window", lambda: check_main_window(app), None))
            results.append(run_check("gl", lambda: check_gl(app, min(timeout, 30.0)), None))
    from . import __version__

    checks = {r.pop("name"): r for r in results}
    return {
        "ok": all(c["ok"] for c in checks.values()),
        "frozen": is_frozen(),
        "version": __version__,
        "python": platform.python_version(),
        "platform": f"{sys.platform}-{platform.machine()}",
        "qt_platform": qt_platform,
        "bundle": str(bundle_dir()) if bundle_dir() else None,
        "seconds": round(time.perf_counter() - started, 3),
        "checks": checks,
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, help="also write the JSON report to this file (windowed builds "
                                                 "on Windows have no console to print to)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds allowed per check")
    parser.add_argument("--no-qt", action="store_true", help="skip the window and OpenGL checks")


def report_and_exit_code(report: dict, out: Path | None) -> int:
    text = strict_json.dumps(report, indent=2)
    if out is not None:
        from .core.atomic import write_text_atomic

        write_text_atomic(Path(out), text + "\n")
    print(text, flush=True)
    return 0 if report["ok"] else 1


def finish(code: int, report: dict) -> int:
    """A check that timed out may still hold a thread in native code: leave without waiting for it."""
    if any(c.get("timed_out") for c in report["checks"].values()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def main(argv: list[str] | None = None) -> int:
    """`navtalk-studio --self-test [--out FILE] [--timeout S] [--no-qt]`."""
    parser = argparse.ArgumentParser(prog="navtalk-studio --self-test",
                                     description="Check that this installation works; prints JSON.")
    parser.add_argument("--self-test", action="store_true", help=argparse.SUPPRESS)
    add_arguments(parser)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    report = run_self_test(timeout=args.timeout, qt=not args.no_qt)
    return finish(report_and_exit_code(report, args.out), report)
