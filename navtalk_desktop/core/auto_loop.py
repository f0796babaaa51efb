"""The `auto` strategy: try loop candidates around every clean blink and keep the best measured seam."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .analysis import AnalysisResult
from .blink_rules import plan_conflicts
from .errors import PlanError
from .loop_plan import DEFAULT_CROSSFADE_S, DEFAULT_DURATION_S, LoopPlan, make_plan
from .seam import SeamReport, assemble, measure_frames, plan_turns, source_frames_small

CROSSFADE_OFFSETS_S = (0.6, 1.0, 1.5, 2.0)  # where the blink apex sits after the loop start
BLINK_REVERSED_COST = 0.5  # a ping-pong plays the blink backwards once per cycle: slow close, fast open
BLINK_IN_FADE_COST = 3.0  # a half-faded blink is a ghost


@dataclass
class Candidate:
    plan: LoopPlan
    report: SeamReport
    cost: float
    why: str


def score(plan: LoopPlan, report: SeamReport, blink: tuple[int, int] | None) -> tuple[float, str]:
    """Lower is better: seam step far from 1, motion reversals, repeated frames, blink problems."""
    ratio = max(report.seam_step_ratio, 1e-3)
    cost = abs(math.log(ratio))
    notes = [f"seam step ratio {ratio:.2f}"]
    cosines = [report.seam_flow_cosine or 1.0] + report.turn_cosines
    worst = min(cosines)
    if worst < 0:
        cost += -worst
        notes.append(f"motion reverses (flow cosine {worst:+.2f})")
    if report.seam_duplicates:
        cost += report.seam_duplicates
        notes.append(f"{report.seam_duplicates} repeated frames at the seam")
    if blink and plan.strategy == "pingpong" and plan.first <= blink[0] and blink[1] <= plan.last:
        cost += BLINK_REVERSED_COST
        notes.append("blink plays backwards once a cycle")
    faded = plan.faded_range
    if blink and faded and blink[1] >= faded[0] and blink[0] <= faded[1]:
        cost += BLINK_IN_FADE_COST
        notes.append("blink falls in the crossfade")
    if blink and not (plan.first <= blink[0] and blink[1] <= plan.last):
        cost += BLINK_IN_FADE_COST
        notes.append("blink not fully inside the loop")
    return cost, ", ".join(notes)


def candidates_for(analysis: AnalysisResult, loop_point: int, duration: float, crossfade: float,
                   before: float | None, after: float | None = None,
                   strategies: tuple[str, ...] = ("pingpong", "crossfade")) -> list[LoopPlan]:
    info = analysis.info
    plans = []
    offsets = (before,) if before is not None else CROSSFADE_OFFSETS_S
    for strategy, befores in (("pingpong", (before if before is not None else 1.0,)), ("crossfade", offsets)):
        if strategy not in strategies:
            continue
        for b in befores:
            try:
                plans.append(make_plan(strategy, info.fps, info.frame_count, loop_point, duration=duration,
                                       before=b, after=after, crossfade=crossfade))
            except PlanError:
                continue
    unique = {(p.strategy, p.first, p.last): p for p in plans}
    return list(unique.values())


def choose_plan(
    analysis: AnalysisResult,
    source: Path | str,
    loop_point: int | None = None,
    duration: float = DEFAULT_DURATION_S,
    crossfade: float = DEFAULT_CROSSFADE_S,
    before: float | None = None,
    strategies: tuple[str, ...] = ("pingpong", "crossfade"),
    after: float | None = None,
) -> tuple[LoopPlan, list[Candidate]]:
    """Best plan by measured seam, around `loop_point` or else every clean blink. Candidates come sorted."""
    if loop_point is not None and not 0 <= loop_point < analysis.frame_count:
        raise PlanError(f"the loop point (frame {loop_point}) is outside the video "
                        f"(frames 0-{analysis.frame_count - 1})")
    frames = source_frames_small(source, analysis.info)
    blinks: list[tuple[int, tuple[int, int] | None]] = []
    if loop_point is not None:
        event = next((e for e in analysis.events if e.start <= loop_point <= e.end), None)
        blinks.append((loop_point, (event.start, event.end) if event else None))
    else:
        blinks = [(e.apex, (e.start, e.end)) for e in analysis.clean_events()]
    if not blinks:
        raise PlanError("no clean blink to build a loop around; give a loop point with --at SECONDS or --frame N")
    scored = []
    for point, span in blinks:
        for plan in candidates_for(analysis, point, duration, crossfade, before, after, strategies):
            if plan_conflicts(plan, analysis.events):  # the user's "never loop through this" blinks
                continue
            loop = assemble(plan, frames)
            report = measure_frames(loop, float(plan.fps), plan_turns(plan), plan.output_frames, full_flow=False)
            cost, why = score(plan, report, span)
            scored.append(Candidate(plan, report, cost, why))
    if not scored:
        raise PlanError(f"the video is too short for a {duration:g} s loop")
    scored.sort(key=lambda c: c.cost)
    return scored[0].plan, scored


def explain(candidates: list[Candidate], limit: int = 4) -> str:
    best = candidates[0]
    lines = [f"auto: chose {best.plan.strategy} frames {best.plan.first}-{best.plan.last} around frame "
             f"{best.plan.loop_point} (cost {best.cost:.2f}: {best.why})"]
    for c in candidates[1:limit]:
        lines.append(f"  rather than {c.plan.strategy} frames {c.plan.first}-{c.plan.last} around "
                     f"{c.plan.loop_point} (cost {c.cost:.2f}: {c.why})")
    return "\n".join(lines)


@dataclass
class PlanChoice:
    plan: LoopPlan
    explanation: str
    fallback: bool  # no clean blink: the plan sits around the most closed eyes (or the middle) instead


def plan_loop(
    analysis: AnalysisResult,
    source: Path | str,
    strategy: str = "auto",
    loop_point: int | None = None,
    duration: float = DEFAULT_DURATION_S,
    before: float | None = None,
    after: float | None = None,
    crossfade: float = DEFAULT_CROSSFADE_S,
    fallback: bool = False,
) -> PlanChoice:
    """The plan every front end uses: measured candidates for `strategy` (or both, for auto).

    With no loop point and no clean blink, raise PlanError, or with `fallback` build the plan around the
    most closed eyes in the clip (the middle when no face was seen) and say so.
    """
    strategies = ("pingpong", "crossfade") if strategy == "auto" else (strategy,)
    try:
        plan, candidates = choose_plan(analysis, source, loop_point=loop_point, duration=duration,
                                       crossfade=crossfade, before=before, strategies=strategies, after=after)
        return PlanChoice(plan, explain(candidates), False)
    except PlanError:
        if loop_point is not None or not fallback:
            raise
    openness = np.where(np.isfinite(analysis.openness), analysis.openness, np.inf)
    seen = bool(np.isfinite(openness).any())
    point = int(np.argmin(openness)) if seen else analysis.frame_count // 2
    plan, candidates = choose_plan(analysis, source, loop_point=point, duration=duration, crossfade=crossfade,
                                   before=before, strategies=strategies, after=after)
    where = f"the most closed eyes (frame {point})" if seen else "the middle of the clip (no face seen)"
    return PlanChoice(plan, f"no clean blink found; the loop is built around {where}\n" + explain(candidates), True)
