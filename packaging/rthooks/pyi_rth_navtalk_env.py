"""Runtime hook: child processes (ffmpeg, also when pydub starts it) get the user's environment back.

On Linux the bootloader puts the bundle folder first on LD_LIBRARY_PATH and keeps the original value in
LD_LIBRARY_PATH_ORIG (PyInstaller, "Launching External Programs from the Frozen Application"). This process
no longer needs the variable once it runs (the dynamic loader reads it at start-up only), but every child
would inherit it and could load the bundle's libraries instead of its own. `core.ffmpeg.clean_env()` does
the same for the app's own ffmpeg calls; this covers third-party code that starts processes itself.
"""

import os
import sys


def _restore_library_paths() -> None:
    bundle = getattr(sys, "_MEIPASS", None)
    for key in ("LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH"):
        original = os.environ.get(key + "_ORIG")
        if original is not None:
            os.environ[key] = original
        elif bundle and os.environ.get(key, "").split(os.pathsep)[0] == bundle:
            del os.environ[key]


_restore_library_paths()
del _restore_library_paths
