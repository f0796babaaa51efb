"""Start-up time of the studio: from launching `navtalk-studio` to its window being shown.   target <= 1.0 s (issue 12)

Each run is a fresh process (`--quit-when-shown`), timed from Popen to the line the app prints when its
window has been shown; the app's own figure (since its first module import) is reported beside it.
Runs under the current QPA platform: offscreen without a display, xcb under Xvfb (`xvfb-run -a`).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 1.0
RUNS = 5


def studio_command() -> list[str]:
    script = Path(sys.executable).parent / "navtalk-studio"
    return [str(script)] if script.exists() else [sys.executable, "-m", "navtalk_desktop"]


# The baseline: an empty PySide6 main window in a fresh interpreter, shown the same way.
BARE_WINDOW = """
import time
t0 = time.perf_counter()
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
w = QMainWindow()
w.resize(1280, 800)
w.show()
QTimer.singleShot(0, lambda: (print(f"window shown after {time.perf_counter() - t0:.3f} s", flush=True), app.quit()))
app.exec()
"""


def one_run(env: dict, command: list[str] | None = None) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(command or [*studio_command(), "--quit-when-shown"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    internal = None
    for line in proc.stdout:
        match = re.search(r"window shown after ([0-9.]+) s", line)
        if match:
            wall = time.perf_counter() - start
            internal = float(match.group(1))
            break
    proc.wait(timeout=30)
    if internal is None:
        raise RuntimeError("the studio exited without showing its window")
    return wall, internal


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        env.setdefault("QT_QPA_PLATFORM", "xcb" if env.get("DISPLAY") else "offscreen")
        env.update(NAVTALK_CONFIG_DIR=f"{tmp}/config", NAVTALK_DATA_DIR=f"{tmp}/data", NAVTALK_LOG_DIR=f"{tmp}/logs",
                   NAVTALK_CACHE_DIR=f"{tmp}/cache")
        one_run(env)  # warm the OS file cache, as a second launch by a user would be
        results, bare = [], []
        for _ in range(RUNS):  # alternating, so both see the same machine load
            results.append(one_run(env))
            bare.append(one_run(env, [sys.executable, "-c", BARE_WINDOW])[0])
    walls = [w for w, _ in results]
    internals = [i for _, i in results]
    median = statistics.median(walls)
    print(f"studio start-up ({env['QT_QPA_PLATFORM']}, {RUNS} runs, {os.cpu_count()} cores)")
    print(f"  launch -> window shown: median {median:.3f} s (min {min(walls):.3f}, max {max(walls):.3f})  "
          f"target <= {TARGET_S} s  {'OK' if median <= TARGET_S else 'SLOW'}")
    print(f"  of which in the app after its first import: median {statistics.median(internals):.3f} s")
    print(f"  an empty PySide6 window: median {statistics.median(bare):.3f} s; the studio takes "
          f"{median / statistics.median(bare):.2f}x that")
    return 0 if median <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
