"""Package attributes imported on first use, so `import navtalk_desktop.core.speech` stays cheap at start-up."""

from __future__ import annotations

import importlib
from typing import Callable


def lazy_getattr(package: str, exports: dict[str, str]) -> Callable[[str], object]:
    """A module `__getattr__` that imports `package.<exports[name]>` when `name` is first asked for."""

    def __getattr__(name: str):
        module = exports.get(name)
        if module is None:
            raise AttributeError(name)
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return __getattr__
