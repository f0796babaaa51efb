"""What each Kling image-to-video model accepts: modes, durations, end-frame (image_tail) combos, fps.

One table, used by the client (to refuse impossible requests before paying for them) and by the local
simulator (to answer exactly as the real API does). Sources: docs/design-notes.md#kling-capabilities. Where sources
conflict, the more permissive reading wins (the server has the last word anyway).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import KlingCapabilityError

from ..defaults import KLING_DURATION as DEFAULT_DURATION  # noqa: F401  (re-exported for the CLI and panels)
from ..defaults import KLING_MODE as DEFAULT_MODE  # noqa: F401
from ..defaults import KLING_MODEL as DEFAULT_MODEL  # noqa: F401
MODES = ("std", "pro")
#: Typical submit->succeed time (ComfyUI's AVERAGE_DURATION_I2V), used for progress estimates.
TYPICAL_GENERATION_SECONDS = 164.0


@dataclass(frozen=True)
class ModelCapabilities:
    name: str
    modes: tuple[str, ...]
    durations: tuple[str, ...]
    #: (mode, duration) pairs where `image_tail` (start + end frame) is allowed.
    tail_combos: frozenset[tuple[str, str]]
    fps: float
    takes_cfg_scale: bool
    takes_mode: bool = True
    has_sound: bool = False
    #: kling-v3 (without multi-shot) refuses an empty prompt.
    requires_prompt: bool = False

    def supports_tail(self, mode: str, duration: str) -> bool:
        return (mode, duration) in self.tail_combos


def _pairs(modes: tuple[str, ...], durations: tuple[str, ...]) -> frozenset[tuple[str, str]]:
    return frozenset((m, d) for m in modes for d in durations)


_FIVE_TEN = ("5", "10")
_V3_DURATIONS = tuple(str(s) for s in range(3, 16))

MODELS: dict[str, ModelCapabilities] = {
    m.name: m
    for m in (
        ModelCapabilities("kling-v1", MODES, _FIVE_TEN, _pairs(MODES, ("5",)), 30.0, True),
        ModelCapabilities("kling-v1-5", MODES, _FIVE_TEN, _pairs(("pro",), _FIVE_TEN), 30.0, True),
        ModelCapabilities("kling-v1-6", MODES, _FIVE_TEN, _pairs(("pro",), _FIVE_TEN), 30.0, True),
        # "Kling-v2-master currently does not support mode parameter": the client omits `mode`.
        ModelCapabilities("kling-v2-master", MODES, _FIVE_TEN, frozenset(), 24.0, False, takes_mode=False),
        ModelCapabilities("kling-v2-1", MODES, _FIVE_TEN, _pairs(("pro",), _FIVE_TEN), 24.0, False),
        ModelCapabilities("kling-v2-1-master", MODES, _FIVE_TEN, frozenset(), 24.0, False),
        # Sources conflict on pro 5 s with image_tail; allowed here (liberal).
        ModelCapabilities("kling-v2-5-turbo", MODES, _FIVE_TEN, _pairs(("pro",), _FIVE_TEN), 24.0, False),
        # Start/end frame only when silent; the client never sends sound="on".
        ModelCapabilities("kling-v2-6", MODES, _FIVE_TEN, _pairs(("pro",), _FIVE_TEN), 24.0, False, has_sound=True),
        ModelCapabilities("kling-v3", MODES, _V3_DURATIONS, _pairs(MODES, _V3_DURATIONS), 24.0, False, has_sound=True,
                          requires_prompt=True),
    )
}


def model_capabilities(name: str) -> ModelCapabilities:
    try:
        return MODELS[name]
    except KeyError:
        known = ", ".join(MODELS)
        raise KlingCapabilityError(f"unknown Kling model {name!r}; known models: {known}") from None


def normalize_duration(duration: str | int | float) -> str:
    """Kling wants the duration as a string of whole seconds ("5"), never a number."""
    text = str(duration).strip()
    try:
        value = float(text)
    except ValueError:
        raise KlingCapabilityError(f"duration must be a number of seconds, got {duration!r}") from None
    if value != int(value) or value <= 0:
        raise KlingCapabilityError(f"duration must be a whole number of seconds, got {duration!r}")
    return str(int(value))


def check_request(model: str, mode: str, duration: str, *, loop_tail: bool) -> ModelCapabilities:
    """Refuse a model/mode/duration(/image_tail) combination the map says Kling will reject."""
    caps = model_capabilities(model)
    if mode not in MODES:
        raise KlingCapabilityError(f"mode must be 'std' or 'pro', got {mode!r}")
    if mode not in caps.modes:
        raise KlingCapabilityError(f"{model} does not offer mode {mode!r} (offers: {', '.join(caps.modes)})")
    if duration not in caps.durations:
        raise KlingCapabilityError(
            f"{model} cannot make a {duration} s video (allowed: {', '.join(caps.durations)} s)"
        )
    if loop_tail and not caps.supports_tail(mode, duration):
        if not caps.tail_combos:
            raise KlingCapabilityError(
                f"{model} does not support an end frame (image_tail), so loop mode is unavailable; "
                f"choose one of: {', '.join(tail_models())}"
            )
        combos = ", ".join(f"{m} {d} s" for m, d in sorted(caps.tail_combos, key=lambda p: (p[0], int(p[1]))))
        raise KlingCapabilityError(
            f"loop mode (image_tail) is not supported for {model}/{mode}/{duration} s; supported: {combos}"
        )
    return caps


def tail_models() -> list[str]:
    return [name for name, caps in MODELS.items() if caps.tail_combos]
