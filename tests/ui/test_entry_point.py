"""The real `navtalk-studio` entry point, in a subprocess (one QApplication per process)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from navtalk_desktop.core import media

from studio_helpers import CLIP


def _env(tmp_path: Path, cache_dir: Path) -> dict:
    env = dict(os.environ)
    env.update(QT_QPA_PLATFORM="offscreen", NAVTALK_CONFIG_DIR=str(tmp_path / "config"),
               NAVTALK_DATA_DIR=str(tmp_path / "data"), NAVTALK_LOG_DIR=str(tmp_path / "logs"),
               NAVTALK_CACHE_DIR=str(cache_dir), PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    return env


def _studio_command() -> list[str]:
    script = Path(sys.executable).parent / "navtalk-studio"
    return [str(script)] if script.exists() else [sys.executable, "-m", "navtalk_desktop"]


def test_scripted_open_analyse_export_exits_cleanly(tmp_path, shared_cache_dir):
    out = tmp_path / "out" / "clip_loop.mp4"
    out.parent.mkdir()
    proc = subprocess.run([*_studio_command(), str(CLIP), "--export", str(out), "--quit"],
                          env=_env(tmp_path, shared_cache_dir), capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    planned = int(re.search(r"plan: \w+ frames \d+-\d+ \((\d+) frames\)", proc.stdout).group(1))
    assert f"exported {out}" in proc.stdout
    assert media.probe(out).frame_count == planned
    assert (tmp_path / "config" / "settings.json").is_file()  # settings were saved on the way out
    assert "secret" not in (tmp_path / "config" / "settings.json").read_text().lower()


def test_python_dash_m_runs_the_studio(tmp_path, shared_cache_dir):
    proc = subprocess.run([sys.executable, "-m", "navtalk_desktop", "--version"],
                          env=_env(tmp_path, shared_cache_dir), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("navtalk-studio ")


def test_scripted_run_reports_bad_input(tmp_path, shared_cache_dir):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00" * 100)
    proc = subprocess.run([*_studio_command(), str(bad), "--export", str(tmp_path / "x.mp4"), "--quit"],
                          env=_env(tmp_path, shared_cache_dir), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "navtalk-studio: error:" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.mp4").exists()


def test_window_shows_quickly_without_heavy_imports(tmp_path, shared_cache_dir):
    """The window appears before MediaPipe, OpenCV or SciPy are imported."""
    code = textwrap.dedent("""
        import sys
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from navtalk_desktop.ui.main_window import MainWindow
        w = MainWindow()
        w.show()
        heavy = sorted(m for m in ("mediapipe", "cv2", "scipy", "matplotlib") if m in sys.modules)
        print("HEAVY", heavy)
        w.close()
    """)
    proc = subprocess.run([sys.executable, "-c", code], env=_env(tmp_path, shared_cache_dir), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stdout


@pytest.mark.parametrize("emits", [3000])
def test_python_side_signal_emits_do_not_crash(tmp_path, emits):
    """PySide6 6.12.0 on CPython 3.11 aborts after ~570 Python-side emits (docs/design-notes.md#qt-pin)."""
    code = textwrap.dedent(f"""
        import sys
        from PySide6.QtCore import QCoreApplication, QObject, Signal
        app = QCoreApplication([])
        class Source(QObject):
            ping = Signal(int)
        received = []
        s = Source()
        s.ping.connect(received.append)
        before = sys.getrefcount(True)
        for i in range({emits}):
            s.ping.emit(i)
        after = sys.getrefcount(True)
        print("RECEIVED", len(received), "TRUE_REFS_LOST", before - after)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, f"the Qt binding crashed after Python-side emits: {proc.stderr[-2000:]}"
    received, lost = map(int, re.search(r"RECEIVED (\d+) TRUE_REFS_LOST (-?\d+)", proc.stdout).groups())
    assert received == emits
    assert lost < 10  # 6.12.0/py3.11 loses one reference to True per emit
