"""Loop plans: which source frames make the loop, counted in frames, never seconds.

Three strategies (docs/design-notes.md#loop-strategies, docs/seamless-loops.md):
- pingpong: frames first..last forward, then back without repeating either turn frame: 2M-2 frames.
- crossfade: N frames played forward from `first` to `last`; over the last K output frames they fade into
  the K frames just before `first`, so the wrap back to `first` continues seamlessly. Needs K spare
  frames before the span; the blink sits in the unfaded part, so it never plays backwards.
- morph: the crossfade's frames, but each transition frame warps both ends toward each other along dense
  optical flow before blending (core/morph.py), so a head that moved slides into place instead of showing twice.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from fractions import Fraction

from .defaults import BLENDED, STRATEGIES, Strategy  # noqa: F401  (re-exported: the plan's vocabulary)
from .defaults import BLINK_AFTER_S as DEFAULT_AFTER_S  # noqa: F401  (the defaults of make_plan and the CLI)
from .defaults import BLINK_BEFORE_S as DEFAULT_BEFORE_S
from .defaults import CROSSFADE_S as DEFAULT_CROSSFADE_S
from .defaults import LOOP_DURATION_S as DEFAULT_DURATION_S
from .errors import PlanError, Remedy


@dataclass(frozen=True)
class LoopPlan:
    """A frame-exact loop. `first`/`last` are the source frames played (inclusive)."""

    strategy: str  # a Strategy value: pingpong, crossfade or morph (never auto)
    fps_num: int
    fps_den: int
    source_frames: int
    first: int
    last: int
    loop_point: int  # the frame the loop is built around (a blink apex or the user's choice)
    crossfade_frames: int = 0

    @property
    def fps(self) -> Fraction:
        return Fraction(self.fps_num, self.fps_den)

    @property
    def span(self) -> int:
        """M: source frames played forward."""
        return self.last - self.first + 1

    @property
    def output_frames(self) -> int:
        if self.strategy == Strategy.PINGPONG:
            return 2 * self.span - 2
        return self.span

    @property
    def faded_range(self) -> tuple[int, int] | None:
        """Source frames (of the played span) that are blended away at the seam; keep the blink out."""
        if self.strategy not in BLENDED:
            return None
        return self.last - self.crossfade_frames + 1, self.last

    @property
    def duration(self) -> float:
        return self.output_frames / float(self.fps)

    @property
    def source_range(self) -> tuple[int, int]:
        """First and last source frame read, crossfade margins included."""
        k = self.crossfade_frames if self.strategy in BLENDED else 0
        return self.first - k, self.last

    @property
    def head_range(self) -> tuple[int, int] | None:
        """Source frames before `first` that the seam blends in (shown only inside the transition)."""
        if self.strategy not in BLENDED:
            return None
        return self.first - self.crossfade_frames, self.first - 1

    def output_sources(self) -> list[list[tuple[int, float]]]:
        """For each output frame, the source frames and weights that make it (for previews and metrics)."""
        if self.strategy == Strategy.PINGPONG:
            forward = list(range(self.first, self.last + 1))
            order = forward + forward[-2:0:-1]
            return [[(f, 1.0)] for f in order]
        n, k = self.span, self.crossfade_frames
        frames = []
        for t in range(n):
            if t < n - k:
                frames.append([(self.first + t, 1.0)])
            else:
                j = t - (n - k)
                w = (j + 1) / k  # the last output frame is the pure head frame, so the wrap continues it
                frames.append([(self.first + t, 1.0 - w), (self.first - k + j, w)])
        return frames

    def with_window(self, first: int, last: int) -> "LoopPlan":
        return validate(replace(self, first=first, last=last))

    def with_loop_point(self, frame: int) -> "LoopPlan":
        """Move the loop point, carrying the window with it (the window keeps its length)."""
        shift = frame - self.loop_point
        return fit_inside(replace(self, loop_point=frame, first=self.first + shift, last=self.last + shift))

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(fps=float(self.fps), output_frames=self.output_frames, duration=round(self.duration, 6),
                    source_range=list(self.source_range))
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "LoopPlan":
        fields = {k: data[k] for k in ("strategy", "fps_num", "fps_den", "source_frames", "first", "last",
                                        "loop_point", "crossfade_frames")}
        return validate(cls(**fields))


def fit_inside(plan: LoopPlan) -> LoopPlan:
    """Shift the window (never shorten it) so every source frame it reads exists."""
    lo, hi = plan.source_range
    if hi - lo + 1 > plan.source_frames:
        raise PlanError(
            f"the video has {plan.source_frames} frames but this {plan.strategy} loop needs {hi - lo + 1} "
            f"({plan.duration:.2f} s at {float(plan.fps):g} fps)", remedy=Remedy.SHORTER_DURATION
        )
    shift = 0
    if lo < 0:
        shift = -lo
    elif hi > plan.source_frames - 1:
        shift = plan.source_frames - 1 - hi
    if shift:
        plan = replace(plan, first=plan.first + shift, last=plan.last + shift)
    return validate(plan)


def validate(plan: LoopPlan) -> LoopPlan:
    if plan.strategy not in STRATEGIES[1:]:
        raise PlanError(f"unknown loop strategy {plan.strategy!r}; use pingpong, crossfade or morph")
    if plan.span < 3:
        raise PlanError("a loop needs at least 3 source frames")
    lo, hi = plan.source_range
    if lo < 0 or hi > plan.source_frames - 1:
        raise PlanError(f"the loop reads frames {lo}-{hi} but the video has frames 0-{plan.source_frames - 1}")
    if plan.strategy in BLENDED and not 1 <= plan.crossfade_frames < plan.span:
        raise PlanError("the crossfade must be at least 1 frame and shorter than the loop")
    return plan


def check_times(duration: float, before: float | None = None, after: float | None = None,
                crossfade: float | None = None, fps: Fraction | float = 1) -> None:
    """Refuse non-finite, negative or zero loop times with a message naming the option (not a traceback later)."""
    for name, value in (("duration", duration), ("before", before), ("after", after), ("crossfade", crossfade)):
        if value is None:
            continue
        if not math.isfinite(value) or not math.isfinite(value * float(fps)):
            raise PlanError(f"the loop {name} must be a finite number of seconds (got {value})")
        if value < 0:
            raise PlanError(f"the loop {name} cannot be negative (got {value:g} s)")
    if duration <= 0:
        raise PlanError(f"the loop duration must be more than 0 s (got {duration:g} s)")


def make_plan(
    strategy: str,
    fps: Fraction,
    source_frames: int,
    loop_point: int,
    duration: float = DEFAULT_DURATION_S,
    before: float = DEFAULT_BEFORE_S,
    after: float | None = None,
    crossfade: float = DEFAULT_CROSSFADE_S,
) -> LoopPlan:
    """A plan of `duration` seconds around `loop_point`, shifted to fit inside the video.

    pingpong: the span runs `before` seconds before the loop point to the end of half the duration
    (with before=after=1 s and 4 s, that is exactly the original NavTalk recipe).
    crossfade, morph: the loop point sits `before` seconds after the start of the loop.
    """
    fps = Fraction(fps)
    check_times(duration, before, after, crossfade, fps)
    if not 0 <= loop_point < source_frames:
        raise PlanError(f"the loop point (frame {loop_point}) is outside the video (frames 0-{source_frames - 1})")
    n = int(round(duration * fps))
    before_frames = int(round(before * fps))
    if strategy == Strategy.PINGPONG:
        n += n % 2  # 2M-2 is even
        span = n // 2 + 1
        if after is not None and abs((before + after) - duration / 2) > 1e-6:
            before_frames = int(round(span * before / (before + after))) if before + after > 0 else 0
        first = loop_point - min(before_frames, span - 1)
        plan = LoopPlan(strategy, fps.numerator, fps.denominator, source_frames, first, first + span - 1, loop_point)
    elif strategy in BLENDED:
        k = max(1, min(int(round(crossfade * fps)), n // 3))
        first = loop_point - before_frames
        plan = LoopPlan(strategy, fps.numerator, fps.denominator, source_frames, first, first + n - 1, loop_point, k)
    else:
        raise PlanError(f"unknown loop strategy {strategy!r}; use auto, pingpong, crossfade or morph")
    return fit_inside(plan)
