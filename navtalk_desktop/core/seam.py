"""Seam quality of a loop, measured on its frames (docs/seam-report.md; docs/design-notes.md, "seam-metrics").

Pixel steps catch jumps and frozen frames; the optical-flow direction cosine catches the velocity
reversal of a ping-pong turn, which pixel metrics cannot see; the ghost measure catches the double image
of a crossfade over moving content. The same code scores a plan before export (frames assembled from the
source: the prediction) and the exported file itself (the measurement); an export's report carries both,
and says why they differ. There is no absolute floor: a step twice the median is a problem however small
the median is (an almost still face shows a 2x keyframe pulse plainly).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from . import media
from .flow_threads import map_flows
from .loop_plan import LoopPlan

METRIC_WIDTH = 160  # frames are compared at this width: enough for motion, cheap for flow (~4 ms a pair)


def metric_width(width: int) -> int:
    """The width a `width`-wide clip's frames are measured at: METRIC_WIDTH, or the even width below it."""
    return min(METRIC_WIDTH, width - width % 2)
DUPLICATE_RATIO = 0.2  # a step under this fraction of the median step is a repeated (frozen) frame
REVERSAL_COSINE = -0.3  # flow direction flips at a frame below this cosine
# The source "turns back too" where its own motion there turns by more than 90 degrees: a jittery clip's weak
# turns (cosine -0.2) are the same turn the loop shows, a little sharper, not one the seam invented.
SOURCE_TURN_COSINE = 0.0
JUMP_RATIO = 1.5  # a wrap step this many times the median step shows as a jump (issue 9's goal figure)
PULSE_RATIO = 1.3  # an encode may add at most this much to the wrap step (issue 9, point 1)
PULSE_MARGIN = 0.2  # measured ratio above the predicted one by more than this: the encode made the step
GHOST_VISIBLE = 0.15  # edge energy lost in a transition frame from here shows as a double image
GHOST_BLUR = 1.5  # px at the metric width: ignore detail finer than a morph's resampling blurs
GHOST_MARGIN = 0.05  # measured ghost above the predicted one by more than this: compression softened it
DIFF_LEVEL = 8.0  # luma levels: where the blended ends differ by more, the ghost region looks (no face box)
WARNING_KINDS = ("blink_in_fade", "backwards_blink", "ghost", "pulse", "level_shift", "reversal", "repeated_frame",
                 "jump")
# The transition frames' mean level against the frames they are made of, beyond the body's own offset: a colour
# conversion of the transition alone (raw frames read as BT.601 beside a BT.709 body: -2.2 levels on LivePortrait
# d13, a 6x step at the wrap that looked like a keyframe pulse). Encodes move a frame's mean by ~0.1-0.3.
LEVEL_SHIFT = 1.0


@dataclass(frozen=True)
class SeamWarning:
    """One thing a viewer would see at the seam. `frames` are output frames (0 = the loop's first);
    `source_frame` is the source frame a timeline marks (None when the report knows no plan)."""

    kind: str  # one of WARNING_KINDS
    frames: list[int]
    message: str
    source_frame: int | None = None
    source_span: tuple[int, int] | None = None  # source frames the warning covers (a fade), when it is a range


@dataclass(frozen=True)
class SeamContext:
    """What the report knows beyond pixels: where the face is (fractions of the frame) and the blinks
    (start, apex, end source frames). Both optional: without a region the ghost looks where the blended
    ends differ; without blinks no blink_in_fade warning."""

    region: tuple[float, float, float, float] | None = None
    blinks: tuple[tuple[int, int, int], ...] = ()

    @classmethod
    def from_analysis(cls, analysis) -> "SeamContext":
        from .window_search import face_box  # window_search imports analysis: only when asked for

        info = analysis.info
        x0, y0, x1, y1 = face_box(analysis, info.width, info.height)
        region = (x0 / info.width, y0 / info.height, x1 / info.width, y1 / info.height)
        return cls(region, tuple((e.start, e.apex, e.end) for e in analysis.events))

    def to_dict(self) -> dict:
        return {"region": list(self.region) if self.region else None, "blinks": [list(b) for b in self.blinks]}

    @classmethod
    def from_dict(cls, data: dict | None) -> "SeamContext":
        """From a sidecar's "seam_context"; anything missing or malformed is left out, not an error."""
        if not isinstance(data, dict):
            return cls()
        try:
            region = tuple(float(v) for v in data["region"]) if data.get("region") else None
            region = region if region is not None and len(region) == 4 else None
        except (TypeError, ValueError):
            region = None
        blinks = []
        for item in data.get("blinks") or []:
            try:
                start, apex, end = (int(v) for v in item)
            except (TypeError, ValueError):
                continue
            blinks.append((start, apex, end))
        return cls(region, tuple(blinks))


@dataclass
class SeamReport:
    frame_count: int
    fps: float
    duration: float
    seam_step: float  # mean |dY| from the last frame to the first
    median_step: float
    seam_step_ratio: float  # ~1 is smooth; >>1 a jump; <<1 a frozen frame
    duplicate_frames: int
    seam_duplicates: int  # of those, the ones at the wrap or a turn: made by the loop, not the source
    seam_flow_cosine: float | None  # motion direction continuity across the wrap
    reversal_frames: list[int] = field(default_factory=list)  # output frames where motion flips (source's own too)
    turn_cosines: list[float] = field(default_factory=list)
    expected_frames: int | None = None
    repeated_frames: list[int] = field(default_factory=list)  # output frames t whose step to t+1 is frozen, at a seam
    turn_frames: list[int] = field(default_factory=list)  # the wrap and a ping-pong's turns (output frames)
    flow_floor: float = 0.0  # flow magnitude below which a step has no direction (the reversal test's floor)
    source_reversals: list[int] = field(default_factory=list)  # transition reversals the source frames make too
    ghost: float | None = None  # worst transition frame's lost edge energy (None: not measured / not blended)
    ghost_frames: list[int] = field(default_factory=list)  # output frames whose ghost >= GHOST_VISIBLE
    level_shift: float | None = None  # transition frames' mean level off their sources, beyond the body's
    warnings: list[SeamWarning] = field(default_factory=list)
    source: str = "frames"  # "prediction" (assembled from source frames) or "file" (decoded from the export)
    predicted: "SeamReport | None" = None  # a file's report: the same plan predicted from the source frames
    differences: list[str] = field(default_factory=list)  # why measured and predicted differ

    @property
    def frame_count_ok(self) -> bool:
        return self.expected_frames is None or self.expected_frames == self.frame_count

    def verdict(self) -> str:
        problems = []
        if not self.frame_count_ok:
            problems.append(f"{self.frame_count} frames instead of {self.expected_frames}")
        problems += [w.message for w in self.warnings]
        return "seamless" if not problems else "; ".join(problems)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["verdict"] = self.verdict()
        data["predicted"] = self.predicted.to_dict() if self.predicted is not None else None
        if not math.isfinite(self.seam_step_ratio):  # strict JSON: null plus why
            data["seam_step_ratio"] = None
            data["seam_step_ratio_reason"] = ("the frames inside the loop never change (median step 0), so the "
                                              "seam step has nothing to be compared with")
        return data

    def _numbers(self) -> str:
        ghost = "n/a" if self.ghost is None else f"{self.ghost:.2f}"
        return (f"seam step {self.seam_step:.2f} vs median {self.median_step:.2f} (ratio {self.seam_step_ratio:.2f}: "
                f"1 is smooth, {JUMP_RATIO:g} a visible jump), ghost {ghost} (0 is none, {GHOST_VISIBLE:g} a visible "
                f"double image)")

    def summary(self) -> str:
        cos = "n/a" if self.seam_flow_cosine is None else f"{self.seam_flow_cosine:+.2f}"
        where = {"file": "measured on the file", "prediction": "predicted from the source frames"}.get(self.source, "")
        lines = [
            f"frames {self.frame_count}" + (f" (expected {self.expected_frames})" if self.expected_frames else "")
            + f", {self.duration:.3f} s at {self.fps:g} fps",
            (f"{where}: " if where else "") + self._numbers(),
            f"repeated frames {self.duplicate_frames} ({self.seam_duplicates} at the seam), flow direction at seam {cos}",
        ]
        if self.predicted is not None:
            lines.append(f"predicted from the source frames: {self.predicted._numbers()}")
        lines += [f"why they differ: {d}" for d in self.differences]
        if len(self.turn_cosines) > 1:  # a ping-pong's two turns; a forward loop's only turn is the seam
            lines.append("flow direction at turns " + ", ".join(f"{c:+.2f}" for c in self.turn_cosines))
        lines += [f"warning [{w.kind}]: {w.message}" for w in self.warnings]
        lines.append(f"verdict: {self.verdict()}")
        return "\n".join(lines)


def _flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)


def _cosine(f1: np.ndarray, f2: np.ndarray) -> float:
    """Direction agreement of two flow fields, weighted by where things move."""
    dot = float((f1 * f2).sum())
    norm = math.sqrt(float((f1 * f1).sum()) * float((f2 * f2).sum()))
    return dot / norm if norm > 1e-6 else 1.0


class StreamedFrames:
    """A loop's small gray frames as a decode delivers them, with the flow of each step into the last one
    (of each of `steps`, else of every step) computed on arrival: the export's loopback decode feeds this
    during the encode, so the report's flow is mostly done when the encode ends. The flows are measure_frames' own.
    With a `pool` (an executor) the flows are computed on its threads (OpenCV's flow releases the GIL)."""

    def __init__(self, pool=None, steps: set[int] | None = None):
        self.frames: list[np.ndarray] = []
        self._steps = steps  # the steps whose flow is wanted (plan_flow_steps); None: every step
        self._flows: dict = {}  # t -> flow of step t -> t+1 (or its future)
        self._pool = pool
        self._last_half: np.ndarray | None = None

    def append(self, frame: np.ndarray) -> None:
        half = cv2.pyrDown(frame)
        t = len(self.frames) - 1
        if self._last_half is not None and (self._steps is None or t in self._steps):
            self._flows[t] = (self._pool.submit(_flow, self._last_half, half) if self._pool
                              else _flow(self._last_half, half))
        self._last_half = half
        self.frames.append(frame)

    @property
    def flows(self) -> dict[int, np.ndarray]:
        """t -> the flow of step t -> t+1, each once it is computed."""
        return {t: f if isinstance(f, np.ndarray) else f.result() for t, f in self._flows.items()}


def _flow_points(n: int, turns, flow_frames, full_flow: bool) -> tuple[list[int], list[int]]:
    """(frames whose flow cosine is measured, steps whose flow that needs) of an n-frame loop."""
    at = sorted(set(range(n))) if full_flow else sorted({0, *(t % n for t in (turns or [])), *flow_frames})
    return at, sorted({(t - 1) % n for t in at} | set(at))


def _transition_steps(plan: LoopPlan) -> range:
    """The steps of a plan's transition: from the last body frame (a reversal there is the transition's)."""
    n = plan.output_frames
    return range(n - plan.crossfade_frames - 1, n) if plan.faded_range is not None else range(0)


def plan_flow_steps(plan: LoopPlan) -> set[int]:
    """The steps t -> t+1 of a plan's loop whose flow its report needs: around the wrap, the turns and the
    transition, where the loop can make a reversal (the body's motion is the source's own)."""
    return set(_flow_points(plan.output_frames, plan_turns(plan), _transition_steps(plan), False)[1])


def measure_frames(frames: np.ndarray, fps: float, turns: list[int] | None = None,
                   expected_frames: int | None = None, full_flow: bool = True,
                   flow_frames=(), known_flows: dict[int, np.ndarray] | None = None) -> SeamReport:
    """Seam metrics of a cyclic sequence of gray frames (n, h, w) uint8; the wrap is (n-1 -> 0).

    With full_flow=False, flow is computed only around the seam and turns (fast, for ranking plans), and
    at `flow_frames` (a transition, where the loop could make a reversal too).
    `known_flows` (StreamedFrames.flows: t -> the flow of step t -> t+1 of these very frames) are used as they are.
    Warnings here are those the pixels alone show (jump, repeated frame, reversal); `finish` adds the
    plan's (ghost, blink in a fade, pulse) and the source frames they sit on.
    """
    n = len(frames)
    # |difference| of uint8 frames is exact in uint8 (cv2.absdiff): no float copy of the whole loop
    steps = np.array([float(cv2.absdiff(frames[(t + 1) % n], frames[t]).mean()) for t in range(n)])
    inner = steps[:-1] if n > 2 else steps
    median = float(np.median(inner)) if len(inner) else 0.0
    seam = float(steps[n - 1])  # the wrap: last frame -> first
    ratio = seam / median if median > 1e-6 else (1.0 if seam < 1e-6 else float("inf"))
    floor = max(DUPLICATE_RATIO * median, 0.05)
    frozen = steps < floor if median > 0.05 else np.zeros(n, bool)
    duplicates = int(frozen.sum())
    # Repeats the loop itself made: at the wrap and around the turns (a source may have its own).
    seam_steps = {n - 1} | {(t + d) % n for t in (turns or []) for d in (-1, 0)}
    repeated = sorted(t for t in seam_steps if frozen[t])
    at, needed = _flow_points(n, turns, flow_frames, full_flow)
    # Motion direction needs no detail: flow at half the metric width costs a quarter.
    halves: dict[int, np.ndarray] = {}

    def half(t: int) -> np.ndarray:
        if t not in halves:
            halves[t] = cv2.pyrDown(frames[t])
        return halves[t]

    known_flows = known_flows or {}
    missing = [t for t in needed if t not in known_flows]
    pairs = [(half(t), half((t + 1) % n)) for t in missing]  # made here: `halves` is not for threads
    computed = dict(zip(missing, map_flows(lambda ab: _flow(*ab), pairs)))
    flows = {t: known_flows[t] if t in known_flows else computed[t] for t in needed}
    # The cosine at frame t compares the motion arriving at t with the motion leaving it.
    cosines = {t: _cosine(flows[(t - 1) % n], flows[t]) for t in at}
    magnitudes = {t: float(np.abs(fl).mean()) for t, fl in flows.items()}
    floor = max(0.02, 0.25 * float(np.median(list(magnitudes.values()))))
    reversal = [t for t in at if cosines[t] < REVERSAL_COSINE and magnitudes[t] > floor
                and magnitudes[(t - 1) % n] > floor]
    report = SeamReport(
        frame_count=n,
        fps=fps,
        duration=n / fps if fps else 0.0,
        seam_step=round(seam, 4),
        median_step=round(median, 4),
        seam_step_ratio=round(ratio, 4),
        duplicate_frames=duplicates,
        seam_duplicates=len(repeated),
        seam_flow_cosine=round(cosines[0], 4),
        reversal_frames=reversal,
        turn_cosines=[round(cosines[t % n], 4) for t in (turns or [])],
        expected_frames=expected_frames,
        repeated_frames=repeated,
        turn_frames=sorted({0, *(t % n for t in (turns or []))}),
        flow_floor=round(floor, 4),
    )
    report.warnings = build_warnings(report)
    return report


def _half_flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _flow(cv2.pyrDown(a), cv2.pyrDown(b))


def source_reversals(report: SeamReport, plan: LoopPlan, frames: np.ndarray, offset: int = 0,
                     floor: float | None = None) -> list[int]:
    """The report's reversals in a blended plan's transition (and at its wrap) that the source frames make too.

    Output step u -> u+1 draws on the tail's source step s -> s+1 (s = first + u) at weight 1 - w and the
    head's, s - n -> s - n + 1, at w (w: the head's weight in frame u+1; 1 at the wrap, which continues the
    head). Blending those two flows gives the motion the source itself has there; if it turns back at t (by
    more than 90 degrees, SOURCE_TURN_COSINE, above `floor`: by default the report's), the reversal is the
    source's own (a clip that jitters), not the seam's (docs/seam-report.md, "Whose reversal").
    """
    if plan.faded_range is None or not report.reversal_frames:
        return []
    n, k, first = plan.span, plan.crossfade_frames, plan.first
    transition = set(range(n - k - 1, n)) | {0}
    cache: dict[int, np.ndarray] = {}

    def step(s: int) -> np.ndarray | None:  # flow of source step s -> s+1, None outside the frames
        i = s - offset
        if not 0 <= i < len(frames) - 1:
            return None
        if s not in cache:
            cache[s] = _half_flow(frames[i], frames[i + 1])
        return cache[s]

    def reference(u: int) -> np.ndarray | None:
        u %= n
        v = u + 1  # the frame the step arrives at; v = n is the wrap (frame 0 continues the head)
        w = 1.0 if v == n else (v - (n - k) + 1) / k if v >= n - k else 0.0
        s = first + u
        parts = [(1.0 - w, step(s)), (w, step(s - n))]
        if any(p is None for weight, p in parts if weight > 1e-6):
            return None
        return sum(weight * p for weight, p in parts if weight > 1e-6)

    floor = report.flow_floor if floor is None else floor
    made = []
    for t in report.reversal_frames:
        if t not in transition:
            continue
        before, after = reference(t - 1), reference(t)
        if before is None or after is None:
            continue
        if (_cosine(before, after) < SOURCE_TURN_COSINE and float(np.abs(before).mean()) > floor
                and float(np.abs(after).mean()) > floor):
            made.append(t)
    return made


# --- ghost (double exposure) ------------------------------------------------------------------------------------
def detail(img: np.ndarray) -> float:
    """Edge energy above the resampling scale: a half-pixel warp keeps it, a double edge halves it."""
    img = cv2.GaussianBlur(img.astype(np.float32), (0, 0), GHOST_BLUR)
    gx = cv2.Sobel(img, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(img, cv2.CV_32F, 0, 1, ksize=3)
    return float((gx * gx + gy * gy).mean())


def _ends(plan: LoopPlan, frames: np.ndarray, offset: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(tail, head) source frames each blended transition frame mixes; the last one is the pure head."""
    n, k = plan.span, plan.crossfade_frames
    return [(frames[plan.first + n - k + j - offset], frames[plan.first - k + j - offset]) for j in range(k - 1)]


def ghost_box(plan: LoopPlan, frames: np.ndarray, offset: int = 0,
              region: tuple[float, float, float, float] | None = None) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) in the frames' pixels where the ghost is measured: the face region when known, else
    the bounding box of where the blended ends differ (static background would dilute the measure)."""
    h, w = frames.shape[1:3]
    if region is not None:
        x0, y0, x1, y1 = (int(round(v * s)) for v, s in zip(region, (w, h, w, h)))
        if x1 - x0 >= 8 and y1 - y0 >= 8:
            return max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    moved = np.zeros((h, w), bool)
    for a, b in _ends(plan, frames, offset):
        diff = cv2.GaussianBlur(np.abs(a.astype(np.float32) - b.astype(np.float32)), (0, 0), 2.0)
        moved |= diff > DIFF_LEVEL
    ys, xs = np.nonzero(moved)
    if len(xs) == 0:
        return 0, 0, w, h
    pad = 8
    box = (max(0, int(xs.min()) - pad), max(0, int(ys.min()) - pad), min(w, int(xs.max()) + pad + 1),
           min(h, int(ys.max()) + pad + 1))
    return box if box[2] - box[0] >= 8 and box[3] - box[1] >= 8 else (0, 0, w, h)


def ghost_profile(loop: np.ndarray, plan: LoopPlan, frames: np.ndarray, box: tuple[int, int, int, int],
                  offset: int = 0) -> list[float]:
    """Double exposure of each blended transition frame (output frames n-K .. n-2; the last is the pure head):
    1 - edge energy of the frame / the sharper blended end's, on `box`. Empty for a ping-pong.

    A blend of two misaligned faces draws each edge twice at partial strength, which keeps the summed
    gradient but only (1-w)^2 + w^2 of its energy at weight w; an aligned blend or a good morph keeps it
    (docs/seamless-loops.md, "The ghost measure"). `frames[i]` is source frame offset + i.
    """
    if plan.faded_range is None:
        return []
    x0, y0, x1, y1 = box
    n, k = plan.span, plan.crossfade_frames
    out = []
    for j, (a, b) in enumerate(_ends(plan, frames, offset)):
        sharp = max(detail(a[y0:y1, x0:x1]), detail(b[y0:y1, x0:x1]))
        lost = 1.0 - detail(loop[n - k + j][y0:y1, x0:x1]) / sharp if sharp > 1e-6 else 0.0
        out.append(round(max(0.0, lost), 4))
    return out


def transition_ghost(loop: np.ndarray, plan: LoopPlan, frames: np.ndarray, box: tuple[int, int, int, int],
                     offset: int = 0) -> float:
    """The worst transition frame's ghost (0 for a ping-pong): what `auto` ranks by."""
    return max(ghost_profile(loop, plan, frames, box, offset), default=0.0)


# --- warnings ---------------------------------------------------------------------------------------------------
def _source_of(plan: LoopPlan | None, t: int) -> int | None:
    """The source frame output frame t mostly plays (a transition frame: the tail frame it fades out)."""
    if plan is None:
        return None
    sources = plan.output_sources()
    return int(sources[t % len(sources)][0][0]) if sources else None


def _frames_text(frames: list[int]) -> str:
    if len(frames) > 1 and frames == list(range(frames[0], frames[-1] + 1)):
        return f"frames {frames[0]}-{frames[-1]}"
    return ("frame " if len(frames) == 1 else "frames ") + ", ".join(map(str, frames[:6]))


def _fade_name(plan: LoopPlan) -> str:
    return "morph" if plan.strategy == "morph" else "crossfade"


def build_warnings(report: SeamReport, plan: LoopPlan | None = None,
                   blinks: tuple[tuple[int, int, int], ...] = ()) -> list[SeamWarning]:
    """The report's warnings from its numbers (and the plan's fades and blinks when given)."""
    n = report.frame_count
    found: list[SeamWarning] = []
    predicted = report.predicted
    ratio = report.seam_step_ratio
    # The encode made the step when the source frames do not have it (issue 9, point 1: at most 1.3x).
    encode_made = (predicted is not None and math.isfinite(ratio)
                   and ratio > PULSE_RATIO and ratio > predicted.seam_step_ratio + PULSE_MARGIN)
    source_jump = (ratio > JUMP_RATIO and not encode_made) or (encode_made and predicted.seam_step_ratio > JUMP_RATIO)
    wrap = [n - 1, 0]
    if source_jump:
        how = ("the rest of the loop is still" if not math.isfinite(ratio) else f"{ratio:.2f}x a normal step")
        found.append(SeamWarning("jump", wrap, f"visible jump at the seam ({how})", _source_of(plan, 0)))
    shifted = report.level_shift is not None and abs(report.level_shift) >= LEVEL_SHIFT
    if shifted:
        how = "darker" if report.level_shift < 0 else "brighter"
        found.append(SeamWarning(
            "level_shift", wrap, f"the transition frames are {abs(report.level_shift):.1f} grey levels {how} than "
            f"the frames they are made of, the body is not (a colour conversion of the transition): a step in and "
            f"out of it", _source_of(plan, 0)))
    if encode_made and not shifted:
        found.append(SeamWarning(
            "pulse", wrap, f"keyframe pulse at the wrap: the file steps {ratio:.2f}x a normal frame step where the "
                           f"source frames step {predicted.seam_step_ratio:.2f}x (the encode adds it)",
            _source_of(plan, 0)))
    if report.repeated_frames:
        repeated = list(report.repeated_frames)
        found.append(SeamWarning("repeated_frame", repeated, f"{len(repeated)} repeated frame(s) at the seam "
                                 f"({_frames_text(repeated)})", _source_of(plan, repeated[0])))
    # A reversal the loop made: at the wrap, a turn or inside the transition. A head that swings back in
    # the middle of the loop does so in the source too; that is motion, not a seam.
    made = set(report.turn_frames or [0])
    if plan is not None and plan.faded_range is not None:
        made |= set(range(n - plan.crossfade_frames - 1, n))  # from the last body frame: it steps into the morph
    # Inside a transition the source may reverse too (a clip that jitters): only the loop's own count.
    reversals = [t for t in report.reversal_frames if t in made and t not in report.source_reversals]
    if reversals:
        found.append(SeamWarning("reversal", reversals, f"motion reverses at {_frames_text(reversals)}",
                                 _source_of(plan, reversals[0])))
    if plan is not None and plan.strategy == "pingpong":
        found += _backwards_blinks(plan, blinks)
    if plan is None or plan.faded_range is None:
        return found
    k = plan.crossfade_frames
    if report.ghost_frames:
        worst = report.ghost if report.ghost is not None else 0.0
        tail = [_source_of(plan, t) for t in report.ghost_frames]
        found.append(SeamWarning(
            "ghost", list(report.ghost_frames),
            f"double image in the {_fade_name(plan)} (ghost {worst:.2f} at output "
            f"{_frames_text(report.ghost_frames)}): the face moves between the frames it blends",
            tail[0], (min(tail), max(tail))))
    for start, apex, end in blinks:
        for lo, hi in (plan.head_range, plan.faded_range):
            if start <= hi and end >= lo:
                # output frames showing it: the tail plays first+t at t; head frame first-k+j shows at n-k+j
                base = plan.first if lo == plan.faded_range[0] else plan.first - k - (plan.span - k)
                shown = [s - base for s in range(max(start, lo), min(end, hi) + 1)]
                found.append(SeamWarning("blink_in_fade", shown,
                                         f"blink at frame {apex} is inside the {_fade_name(plan)}: it shows "
                                         f"half-faded over open eyes", apex, (lo, hi)))
                break
    return found


def _backwards_blinks(plan: LoopPlan, blinks: tuple[tuple[int, int, int], ...]) -> list[SeamWarning]:
    """A ping-pong plays every blink of its window forward, then backwards (a slow close, a fast open)."""
    sources = plan.output_sources()
    found = []
    for start, apex, end in blinks:
        shown = [t for t in range(plan.span, len(sources)) if start <= sources[t][0][0] <= end]
        if shown:
            found.append(SeamWarning("backwards_blink", shown, f"blink at frame {apex} plays backwards once a cycle "
                                     f"(output {_frames_text(shown)}): the ping-pong returns through it", apex,
                                     (start, end)))
    return found


def explain_differences(measured: SeamReport, predicted: SeamReport) -> list[str]:
    """Why the file's numbers differ from the source frames' (empty when they agree)."""
    notes = []
    m, p = measured.seam_step_ratio, predicted.seam_step_ratio
    shift = measured.level_shift
    if shift is not None and abs(shift) >= LEVEL_SHIFT:
        notes.append(f"the transition frames are {shift:+.1f} grey levels off the frames they are made of, the body "
                     f"is not: a colour conversion of the transition alone (wrap step {m:.2f}x on the file, "
                     f"{p:.2f}x in the source frames)")
    elif math.isfinite(m) and math.isfinite(p):
        if m > p + PULSE_MARGIN:
            notes.append(f"the encode adds a keyframe pulse: the wrap step is {m:.2f}x on the file, {p:.2f}x in the "
                         f"source frames (frame 0 is coded afresh, the last frame predicted from the ones before)")
        elif m < p - PULSE_MARGIN:
            notes.append(f"compression noise evens the steps out: {m:.2f}x on the file, {p:.2f}x in the source frames")
    if predicted.median_step > 0 and measured.median_step > 1.5 * predicted.median_step:
        notes.append(f"compression noise raises every frame step (median {measured.median_step:.2f} on the file, "
                     f"{predicted.median_step:.2f} in the source frames)")
    if measured.ghost is not None and predicted.ghost is not None and measured.ghost > predicted.ghost + GHOST_MARGIN:
        notes.append(f"compression softens the transition frames (ghost {measured.ghost:.2f} on the file, "
                     f"{predicted.ghost:.2f} in the source frames)")
    if measured.seam_duplicates > predicted.seam_duplicates:
        if measured.frame_count_ok:  # every frame is there: the codec flattened steps too small to keep
            notes.append("the file repeats a frame at the seam that the plan does not: the source moves so little "
                         "there that the encode keeps the frame unchanged")
        else:
            notes.append("the file repeats a frame at the seam that the plan does not (frame timing of the encode)")
    return notes


def finish(report: SeamReport, plan: LoopPlan | None, loop: np.ndarray, frames: np.ndarray | None = None,
           offset: int = 0, context: SeamContext | None = None, predicted: SeamReport | None = None) -> SeamReport:
    """Add the plan's measures to `report` (of the frames `loop`): the ghost against the source frames
    (`frames[i]` is source frame offset + i), the prediction to compare with, and the warnings."""
    context = context or SeamContext()
    blended = plan is not None and plan.faded_range is not None and plan.crossfade_frames > 1
    if blended and frames is not None and len(loop) == plan.output_frames:  # a short file: no transition to find
        if loop.shape[1:] != frames.shape[1:]:  # a file cropped to even size: compare at the source's size
            loop = np.stack([cv2.resize(f, (frames.shape[2], frames.shape[1]), interpolation=cv2.INTER_AREA)
                             for f in loop])
        profile = ghost_profile(loop, plan, frames, ghost_box(plan, frames, offset, context.region), offset)
        report.ghost = max(profile, default=0.0)
        start = plan.span - plan.crossfade_frames
        report.ghost_frames = [start + j for j, g in enumerate(profile) if g >= GHOST_VISIBLE]
        report.level_shift = transition_level_shift(loop, plan, frames, offset)
    if plan is not None and frames is not None and len(loop) == plan.output_frames:
        # The file's floor comes from the whole loop's motion, the prediction's from the transition's: judge the
        # source with the prediction's, so the file and its prediction excuse the same frames.
        floor = predicted.flow_floor if predicted is not None else None
        report.source_reversals = source_reversals(report, plan, frames, offset, floor)
    report.predicted = predicted
    report.differences = explain_differences(report, predicted) if predicted is not None else []
    report.warnings = build_warnings(report, plan, context.blinks)
    return report


def transition_level_shift(loop: np.ndarray, plan: LoopPlan, frames: np.ndarray, offset: int = 0) -> float:
    """How far the transition frames' mean level sits off the frames they blend (weighted as the plan blends
    them), beyond the body frames' own offset from theirs: 0 when the encode treated both alike. Warping moves
    pixels, not the level, so a morph's frames are judged by the same weights."""
    sources = plan.output_sources()
    means = frames.reshape(len(frames), -1).mean(axis=1)
    off = np.array([float(loop[t].mean()) - sum(w * means[src - offset] for src, w in parts)
                    for t, parts in enumerate(sources)])
    body = plan.span - plan.crossfade_frames
    return float(np.median(off[body:]) - np.median(off[:body]))


# --- frames -----------------------------------------------------------------------------------------------------
def source_frames_small(source: Path | str, info: media.VideoInfo, start: int = 0, end: int | None = None) -> np.ndarray:
    width = metric_width(info.width)
    return media.read_frames(source, info, start_frame=start, end_frame=end, gray=True, scale_width=width)


def assemble(plan: LoopPlan, frames: np.ndarray, offset: int = 0) -> np.ndarray:
    """The loop's frames built from source frames (frames[i] is source frame offset + i)."""
    if plan.strategy == "morph":
        from .morph import assemble_morph  # morph imports loop_plan only; imported here to keep seam light

        return assemble_morph(plan, frames, offset)
    out = []
    for parts in plan.output_sources():
        if len(parts) == 1 and parts[0][1] == 1.0 and frames.dtype == np.uint8:  # a body frame: the source frame
            out.append(frames[parts[0][0] - offset])
            continue
        acc = sum(frames[src - offset].astype(np.float32) * w for src, w in parts)
        out.append(np.clip(acc + 0.5, 0, 255).astype(np.uint8))
    return np.stack(out)


def plan_turns(plan: LoopPlan) -> list[int]:
    return [0, plan.span - 1] if plan.strategy == "pingpong" else [0]


def _plan_frames(source: Path | str, plan: LoopPlan, frames: np.ndarray | None,
                 info: media.VideoInfo | None) -> tuple[np.ndarray, int]:
    if frames is not None:
        return frames, 0
    info = info or media.probe(source)
    lo, hi = plan.source_range
    return source_frames_small(source, info, lo, hi + 1), lo


def _predict(plan: LoopPlan, frames: np.ndarray, offset: int, context: SeamContext | None) -> SeamReport:
    """The plan's report from source frames. Flow only where the loop can make a reversal (the wrap, the
    turns, the transition): the source's own motion elsewhere is no warning, and full flow costs ~0.2 s."""
    loop = assemble(plan, frames, offset)
    report = measure_frames(loop, float(plan.fps), plan_turns(plan), expected_frames=plan.output_frames,
                            full_flow=False, flow_frames=_transition_steps(plan))
    report.source = "prediction"
    return finish(report, plan, loop, frames, offset, context)


def predict_plan_metrics(source: Path | str, plan: LoopPlan, frames: np.ndarray | None = None,
                         info: media.VideoInfo | None = None, context: SeamContext | None = None) -> SeamReport:
    """Seam metrics of a plan before export. `frames` may hold all small gray source frames already."""
    frames, offset = _plan_frames(source, plan, frames, info)
    return _predict(plan, frames, offset, context)


def inspect_loop(path: Path | str, plan: LoopPlan | None = None, source: Path | str | None = None,
                 context: SeamContext | None = None, source_frames: np.ndarray | None = None,
                 source_info: media.VideoInfo | None = None, source_offset: int = 0,
                 file_frames: np.ndarray | None = None, predicted: SeamReport | None = None,
                 file_flows: dict[int, np.ndarray] | None = None, info: media.VideoInfo | None = None) -> SeamReport:
    """Seam metrics measured on an exported loop file.

    With the plan and its source (a path, or its small gray frames: `source_frames[i]` is source frame
    source_offset + i), the report also carries the prediction from the source frames, the ghost of the
    file's transition frames against them, and why the two differ. `file_frames`: the file's own small gray
    frames when the caller has them (the export's loopback decode); used when their size and count are the
    file's, else the file is decoded. `predicted`: the plan's prediction when the caller has it already
    (the planner's, auto_loop.PlanChoice.prediction: made from the same source frames), else it is made here.
    `file_flows`: the flows of `file_frames` computed as they arrived (StreamedFrames.flows). `info`: the
    file's probe, when the caller made it already.
    """
    info = info or media.probe(path)
    width = metric_width(info.width)
    usable = (file_frames is not None and not info.vfr and len(file_frames) == info.frame_count
              and file_frames.shape[1:] == media.scaled_size(info.width, info.height, width)[::-1])
    frames = file_frames if usable else source_frames_small(path, info)
    turns = plan_turns(plan) if plan else None
    expected = plan.output_frames if plan else None
    # With a plan, flow where the prediction has it (plan_flow_steps); a loop of unknown making, everywhere.
    report = measure_frames(frames, float(info.fps), turns, expected_frames=expected, full_flow=plan is None,
                            flow_frames=_transition_steps(plan) if plan else (),
                            known_flows=file_flows if usable else None)
    report.frame_count = info.frame_count if info.frame_count != len(frames) else len(frames)
    report.source = "file"
    if plan is None or (source is None and source_frames is None):
        return finish(report, plan, frames, context=context)
    src, offset = ((source_frames, source_offset) if source_frames is not None
                   else _plan_frames(source, plan, None, source_info))
    if predicted is None:
        predicted = _predict(plan, src, offset, context)
    return finish(report, plan, frames, src, offset, context, predicted)
