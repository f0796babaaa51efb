"""Mouth parameters: the few numbers a viseme means for the lips, independent of any face.

Why parameters rather than images: they blend linearly (smooth transitions), they apply to any
face through its own landmarks, and a web front end can reproduce them from the exported cues.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from ..speech.visemes import VISEMES

PARAM_NAMES = ("jaw_open", "lip_width", "lip_round", "upper_lip_raise")


@dataclass(frozen=True)
class MouthParams:
    """A mouth pose. All zero = the loop frame's own mouth, untouched.

    jaw_open: 0 (closed) .. 1 (wide open, about 0.4 mouth widths between the inner lips)
    lip_width: -1 (narrow) .. 1 (spread, as in "ee")
    lip_round: 0 .. 1 (puckered, as in "oo")
    upper_lip_raise: 0 .. 1 (upper lip lifted off the teeth, as in "f" or a wide "a")
    viseme: the dominant viseme name (for overlays); weights: viseme -> activation (for patch renderers).
    closed: 0..1, how strongly the lips are pressed shut (p/b/m or a silence in the audio).
    """

    jaw_open: float = 0.0
    lip_width: float = 0.0
    lip_round: float = 0.0
    upper_lip_raise: float = 0.0
    viseme: str = "sil"
    weights: Mapping[str, float] = field(default_factory=dict, compare=False)
    closed: float = 0.0

    def as_array(self) -> np.ndarray:
        return np.array([self.jaw_open, self.lip_width, self.lip_round, self.upper_lip_raise], np.float32)

    @property
    def is_rest(self) -> bool:
        """True when the pose leaves the frame's mouth as it is (nothing to render)."""
        return bool(np.all(np.abs(self.as_array()) < 1e-3)) and self.closed < 1e-3

    def to_dict(self) -> dict:
        return {
            "jaw_open": round(self.jaw_open, 4),
            "lip_width": round(self.lip_width, 4),
            "lip_round": round(self.lip_round, 4),
            "upper_lip_raise": round(self.upper_lip_raise, 4),
        }


REST = MouthParams()

# Each viseme as (jaw_open, lip_width, lip_round, upper_lip_raise). Values follow the usual animator
# charts (Preston Blair / Rhubarb shapes): open vowels drop the jaw, "ee" spreads, "oo"/"w" pucker,
# p/b/m close fully, f/v lift the upper lip slightly over the lower one.
_VISEME_TABLE: dict[str, tuple[float, float, float, float]] = {
    "sil": (0.0, 0.0, 0.0, 0.0),
    "aa": (0.95, 0.10, 0.00, 0.35),
    "ae": (0.75, 0.35, 0.00, 0.35),
    "ah": (0.60, 0.05, 0.00, 0.20),
    "ao": (0.75, -0.20, 0.55, 0.20),
    "eh": (0.55, 0.30, 0.00, 0.25),
    "er": (0.40, -0.05, 0.35, 0.15),
    "ih": (0.35, 0.35, 0.00, 0.20),
    "iy": (0.22, 0.60, 0.00, 0.20),
    "ow": (0.55, -0.30, 0.75, 0.10),
    "uw": (0.28, -0.45, 0.95, 0.05),
    "pbm": (0.0, 0.05, 0.0, 0.0),
    "fv": (0.20, 0.10, 0.00, 0.70),
    "th": (0.22, 0.15, 0.00, 0.30),
    "tdn": (0.22, 0.15, 0.00, 0.15),
    "kg": (0.30, 0.05, 0.00, 0.10),
    "sz": (0.12, 0.40, 0.00, 0.25),
    "shch": (0.20, -0.25, 0.60, 0.25),
    "r": (0.22, -0.20, 0.55, 0.10),
    "l": (0.32, 0.10, 0.00, 0.15),
    "w": (0.15, -0.50, 1.00, 0.00),
    "h": (0.40, 0.05, 0.00, 0.10),
}
assert set(_VISEME_TABLE) == set(VISEMES), "every viseme needs mouth parameters"

# (n_visemes, 4) in VISEMES order: the timeline blends rows of this matrix.
VISEME_MATRIX = np.array([_VISEME_TABLE[v] for v in VISEMES], dtype=np.float32)


def viseme_params(viseme: str, weight: float = 1.0) -> MouthParams:
    """The pose of one viseme at `weight` (0 = rest, 1 = full shape)."""
    try:
        jaw, width, rnd, raise_ = (weight * x for x in _VISEME_TABLE[viseme])
    except KeyError:
        raise KeyError(f"unknown viseme {viseme!r}; known: {', '.join(VISEMES)}") from None
    return MouthParams(jaw, width, rnd, raise_, viseme=viseme, weights={viseme: weight},
                       closed=weight if viseme == "pbm" else 0.0)


def params_from_array(values: np.ndarray, viseme: str = "sil", weights: Mapping[str, float] | None = None,
                      closed: float = 0.0) -> MouthParams:
    v = [float(x) for x in values]
    return MouthParams(v[0], v[1], v[2], v[3], viseme=viseme, weights=dict(weights or {}), closed=closed)
