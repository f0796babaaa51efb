"""Weight-free mouth rendering: viseme parameters, landmark warping of the mouth region, PNG patch sets. No Qt.

Main entry points: MouthRenderer (renderer.py), MouthParams / REST / viseme_params (params.py),
PatchLibrary / PatchMouthRenderer (patches.py), region_mask (geometry.py).
"""

from ..lazy_exports import lazy_getattr

_EXPORTS = {
    "MouthRenderer": "renderer", "MouthParams": "params", "REST": "params", "viseme_params": "params",
    "PatchLibrary": "patches", "PatchMouthRenderer": "patches", "region_mask": "geometry",
}


__getattr__ = lazy_getattr(__name__, _EXPORTS)
