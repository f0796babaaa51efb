"""Weight-free mouth rendering: viseme parameters, landmark warping of the mouth region, PNG patch sets. No Qt.

Main entry points: MouthRenderer (renderer.py: warp.py, pose.py, inner_mouth.py), MouthParams / REST /
viseme_params (params.py), measure.py (read back by Face Mesh), source_mouth.py (does the idle loop talk),
PatchLibrary / PatchMouthRenderer (patches.py), region_mask (geometry.py).
"""

from ..lazy_exports import lazy_getattr

_EXPORTS = {
    "MouthRenderer": "renderer", "MouthParams": "params", "REST": "params", "viseme_params": "params",
    "PatchLibrary": "patches", "PatchMouthRenderer": "patches", "region_mask": "geometry",
}


__getattr__ = lazy_getattr(__name__, _EXPORTS)
