"""Import MediaPipe's Face Mesh without the rest of MediaPipe (0.09 s instead of 0.55-0.7 s).

`import mediapipe` runs `mediapipe/__init__.py`, which imports every solution, the drawing utilities
(and through them matplotlib.pyplot and cv2) and the whole Tasks API. Face Mesh needs none of that.
Here the two package modules on the way (`mediapipe`, `mediapipe.python.solutions`) are created from
their specs without running their `__init__`, so only `mediapipe.python` (the native bindings) and
`face_mesh` load. Nothing is lost: the first attribute the rest of the program reads from the bare
`mediapipe` module (`mediapipe.solutions`, `mediapipe.__version__`, ...) runs the real package
initialisers in place, as a plain `import mediapipe` would have.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from types import ModuleType

_lock = threading.RLock()  # re-entered when an import inside completes a bare package
_BARE = ("mediapipe", "mediapipe.python.solutions")


def _bare_package(name: str) -> ModuleType:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot find {name}")
    module = importlib.util.module_from_spec(spec)  # created, not executed

    def __getattr__(attr: str):  # noqa: N807 (module-level getattr): the first use completes the import
        if attr.startswith("__") and attr not in ("__version__", "__all__"):
            raise AttributeError(attr)
        _complete_all()
        return getattr(module, attr)

    module.__dict__.update(_navtalk_bare=True, __getattr__=__getattr__)
    sys.modules[name] = module
    return module


def _complete(module: ModuleType) -> None:
    """Run a bare package's real `__init__` in place; its children imported so far are already bound."""
    if not module.__dict__.pop("_navtalk_bare", False):
        return
    module.__dict__.pop("__getattr__", None)
    module.__spec__.loader.exec_module(module)


def _complete_all() -> None:
    with _lock:
        for name in reversed(_BARE):  # solutions first: mediapipe/__init__ imports it
            module = sys.modules.get(name)
            if module is not None:
                _complete(module)


def face_mesh_module() -> ModuleType:
    """`mediapipe.python.solutions.face_mesh`, by the light path when mediapipe is not imported yet.

    Should the light path fail (an importer without module specs, a changed package layout), the bare
    modules are dropped and MediaPipe is imported the ordinary way.
    """
    with _lock:
        if "mediapipe.python.solutions.face_mesh" in sys.modules:
            return sys.modules["mediapipe.python.solutions.face_mesh"]
        try:
            if "mediapipe" not in sys.modules:
                _bare_package("mediapipe")
                importlib.import_module("mediapipe.python")  # the native bindings
                if "mediapipe.python.solutions" not in sys.modules:
                    _bare_package("mediapipe.python.solutions")
            # import_module, not `from ... import`: that probes the bare package's attributes first,
            # which would complete it
            return importlib.import_module("mediapipe.python.solutions.face_mesh")
        except Exception:
            for name in _BARE:
                if getattr(sys.modules.get(name), "_navtalk_bare", False):
                    del sys.modules[name]
            import mediapipe

            return mediapipe.solutions.face_mesh
