"""Weight-free mouth rendering: viseme parameters, landmark warping of the mouth region, PNG patch sets. No Qt.

Main entry points: MouthRenderer (renderer.py), MouthParams / REST / viseme_params (params.py),
PatchLibrary / PatchMouthRenderer (patches.py), region_mask (geometry.py).
"""

_EXPORTS = {
    "MouthRenderer": "renderer", "MouthParams": "params", "REST": "params", "viseme_params": "params",
    "PatchLibrary": "patches", "PatchMouthRenderer": "patches", "region_mask": "geometry",
}


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
