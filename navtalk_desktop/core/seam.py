"""Seam quality of a loop, measured on its frames (specs/loop-and-lipsync.md, section A4).

Pixel steps catch jumps and frozen frames; the optical-flow direction cosine catches the velocity
reversal of a ping-pong turn, which pixel metrics cannot see. The same code scores a plan before export
(frames assembled from the source) and the exported file itself.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from . import media
from .loop_plan import LoopPlan

METRIC_WIDTH = 160  # frames are compared at this width: enough for motion, cheap for flow (~4 ms a pair)
DUPLICATE_RATIO = 0.2  # a step under this fraction of the median step is a repeated (frozen) frame
REVERSAL_COSINE = -0.3  # flow direction flips at a frame below this cosine
# A seam step this many luma levels above the median is the least that shows; smaller excesses are
# codec noise (the loop's first frame is an I-frame) on an almost still face.
VISIBLE_EXCESS = 1.0


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
    reversal_frames: list[int] = field(default_factory=list)  # output frames where motion flips
    turn_cosines: list[float] = field(default_factory=list)
    expected_frames: int | None = None

    @property
    def frame_count_ok(self) -> bool:
        return self.expected_frames is None or self.expected_frames == self.frame_count

    def verdict(self) -> str:
        problems = []
        if not self.frame_count_ok:
            problems.append(f"{self.frame_count} frames instead of {self.expected_frames}")
        if self.seam_duplicates:
            problems.append(f"{self.seam_duplicates} repeated frame(s) at the seam")
        if self.seam_step_ratio > 1.5 and self.seam_step - self.median_step > VISIBLE_EXCESS:
            problems.append("visible jump at the seam (the rest of the loop is still)"
                            if not math.isfinite(self.seam_step_ratio)
                            else f"visible jump at the seam ({self.seam_step_ratio:.2f}x a normal step)")
        if self.reversal_frames:
            problems.append(f"motion reverses at frame(s) {', '.join(map(str, self.reversal_frames[:6]))}")
        return "seamless" if not problems else "; ".join(problems)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["verdict"] = self.verdict()
        if not math.isfinite(self.seam_step_ratio):  # strict JSON: null plus why
            data["seam_step_ratio"] = None
            data["seam_step_ratio_reason"] = ("the frames inside the loop never change (median step 0), so the "
                                              "seam step has nothing to be compared with")
        return data

    def summary(self) -> str:
        cos = "n/a" if self.seam_flow_cosine is None else f"{self.seam_flow_cosine:+.2f}"
        lines = [
            f"frames {self.frame_count}" + (f" (expected {self.expected_frames})" if self.expected_frames else "")
            + f", {self.duration:.3f} s at {self.fps:g} fps",
            f"seam step {self.seam_step:.2f} vs median {self.median_step:.2f} (ratio {self.seam_step_ratio:.2f}, "
            f"{self.seam_step - self.median_step:+.2f} luma levels; below +{VISIBLE_EXCESS:g} it does not show), "
            f"repeated frames {self.duplicate_frames} ({self.seam_duplicates} at the seam), flow direction at seam {cos}",
        ]
        if len(self.turn_cosines) > 1:  # a ping-pong's two turns; a forward loop's only turn is the seam
            lines.append("flow direction at turns " + ", ".join(f"{c:+.2f}" for c in self.turn_cosines))
        lines.append(f"verdict: {self.verdict()}")
        return "\n".join(lines)


def _flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)


def _cosine(f1: np.ndarray, f2: np.ndarray) -> float:
    """Direction agreement of two flow fields, weighted by where things move."""
    dot = float((f1 * f2).sum())
    norm = math.sqrt(float((f1 * f1).sum()) * float((f2 * f2).sum()))
    return dot / norm if norm > 1e-6 else 1.0


def measure_frames(frames: np.ndarray, fps: float, turns: list[int] | None = None,
                   expected_frames: int | None = None, full_flow: bool = True) -> SeamReport:
    """Seam metrics of a cyclic sequence of gray frames (n, h, w) uint8; the wrap is (n-1 -> 0).

    With full_flow=False, flow is computed only around the seam and turns (fast, for ranking plans).
    """
    n = len(frames)
    f = frames.astype(np.float32)
    steps = np.array([np.abs(f[(t + 1) % n] - f[t]).mean() for t in range(n)])
    inner = steps[:-1] if n > 2 else steps
    median = float(np.median(inner)) if len(inner) else 0.0
    seam = float(steps[-1])
    ratio = seam / median if median > 1e-6 else (1.0 if seam < 1e-6 else float("inf"))
    floor = max(DUPLICATE_RATIO * median, 0.05)
    frozen = steps < floor if median > 0.05 else np.zeros(n, bool)
    duplicates = int(frozen.sum())
    # Repeats the loop itself made: at the wrap and around the turns (a source may have its own).
    seam_steps = {n - 1} | {(t + d) % n for t in (turns or []) for d in (-1, 0)}
    seam_duplicates = int(sum(frozen[t] for t in seam_steps))
    at = sorted(set(range(n))) if full_flow else sorted({0, *(turns or [])})
    needed = sorted({(t - 1) % n for t in at} | set(at))
    # Motion direction needs no detail: flow at half the metric width costs a quarter.
    halves: dict[int, np.ndarray] = {}

    def half(t: int) -> np.ndarray:
        if t not in halves:
            halves[t] = cv2.pyrDown(frames[t])
        return halves[t]

    flows = {t: _flow(half(t), half((t + 1) % n)) for t in needed}
    # The cosine at frame t compares the motion arriving at t with the motion leaving it.
    cosines = {t: _cosine(flows[(t - 1) % n], flows[t]) for t in at}
    magnitudes = {t: float(np.abs(fl).mean()) for t, fl in flows.items()}
    floor = max(0.02, 0.25 * float(np.median(list(magnitudes.values()))))
    reversal = [t for t in at if cosines[t] < REVERSAL_COSINE and magnitudes[t] > floor
                and magnitudes[(t - 1) % n] > floor]
    return SeamReport(
        frame_count=n,
        fps=fps,
        duration=n / fps if fps else 0.0,
        seam_step=round(seam, 4),
        median_step=round(median, 4),
        seam_step_ratio=round(ratio, 4),
        duplicate_frames=duplicates,
        seam_duplicates=seam_duplicates,
        seam_flow_cosine=round(cosines[0], 4),
        reversal_frames=reversal,
        turn_cosines=[round(cosines[t % n], 4) for t in (turns or [])],
        expected_frames=expected_frames,
    )


def source_frames_small(source: Path | str, info: media.VideoInfo, start: int = 0, end: int | None = None) -> np.ndarray:
    width = min(METRIC_WIDTH, info.width - info.width % 2)
    return media.read_frames(source, info, start_frame=start, end_frame=end, gray=True, scale_width=width)


def assemble(plan: LoopPlan, frames: np.ndarray, offset: int = 0) -> np.ndarray:
    """The loop's frames built from source frames (frames[i] is source frame offset + i)."""
    if plan.strategy == "morph":
        from .morph import assemble_morph  # morph imports loop_plan only; imported here to keep seam light

        return assemble_morph(plan, frames, offset)
    out = []
    for parts in plan.output_sources():
        acc = sum(frames[src - offset].astype(np.float32) * w for src, w in parts)
        out.append(np.clip(acc + 0.5, 0, 255).astype(np.uint8))
    return np.stack(out)


def plan_turns(plan: LoopPlan) -> list[int]:
    return [0, plan.span - 1] if plan.strategy == "pingpong" else [0]


def predict_plan_metrics(source: Path | str, plan: LoopPlan, frames: np.ndarray | None = None,
                         info: media.VideoInfo | None = None) -> SeamReport:
    """Seam metrics of a plan before export. `frames` may hold all small gray source frames already."""
    if frames is None:
        info = info or media.probe(source)
        lo, hi = plan.source_range
        frames, offset = source_frames_small(source, info, lo, hi + 1), lo
    else:
        offset = 0
    loop = assemble(plan, frames, offset)
    return measure_frames(loop, float(plan.fps), plan_turns(plan), expected_frames=plan.output_frames)


def inspect_loop(path: Path | str, plan: LoopPlan | None = None) -> SeamReport:
    """Seam metrics measured on an exported loop file."""
    info = media.probe(path)
    frames = source_frames_small(path, info)
    turns = plan_turns(plan) if plan else None
    expected = plan.output_frames if plan else None
    report = measure_frames(frames, float(info.fps), turns, expected_frames=expected)
    report.frame_count = info.frame_count if info.frame_count != len(frames) else len(frames)
    return report
