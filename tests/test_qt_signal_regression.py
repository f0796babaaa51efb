"""PySide6 6.12.0 on CPython 3.11 aborts (bool_dealloc) after a few hundred Python-side signal emits.

The pin is PySide6-Essentials==6.11.*; this test emits thousands of signals with bool and object
payloads in a child process, so a regression shows up as a crash instead of taking pytest down.
"""

import os
import subprocess
import sys

SCRIPT = r"""
import sys
from PySide6.QtCore import QCoreApplication, QObject, Signal

class Emitter(QObject):
    flag_changed = Signal(bool)
    progress_changed = Signal(object)

app = QCoreApplication(sys.argv)
emitter = Emitter()
seen = []
emitter.flag_changed.connect(lambda value: seen.append(value))
emitter.progress_changed.connect(lambda value: seen.append(value))
before = sys.getrefcount(True)
for i in range(5000):
    emitter.flag_changed.emit(i % 2 == 0)
    emitter.progress_changed.emit({"done": i})
received = len(seen)
seen.clear()  # the list itself held references to True
lost = before - sys.getrefcount(True)
print(received, lost)
"""


def test_thousands_of_python_signal_emits_do_not_abort():
    import PySide6

    assert PySide6.__version__.startswith("6.11."), PySide6.__version__
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    received, lost = map(int, proc.stdout.split())
    assert received == 10000
    # The 6.12.0 bug drops one reference to True per emit until the interpreter aborts.
    assert lost < 10
