"""The `auto` strategy: rank every loop window cheaply, measure the best few, keep the best measured seam."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import numpy as np

from .analysis import AnalysisResult
from .blink_rules import plan_conflicts
from .errors import PlanError, Remedy
from .loop_plan import BLENDED, DEFAULT_CROSSFADE_S, DEFAULT_DURATION_S, LoopPlan, check_times, make_plan, validate
from .kept_frames import small_frames
from .mouth.geometry import LIP_INDICES
from .seam import GHOST_VISIBLE, SeamContext, SeamReport, metric_width, predict_plan_metrics
from .window_search import best_distinct, diagonal_filter, pair_distances, score_windows

AUTO_STRATEGIES = ("pingpong", "crossfade", "morph")
MEASURED_PER_STRATEGY = 3  # windows per strategy measured fully after the cheap search
DISTINCT_GAP_S = 0.2  # measured windows of one strategy start at least this far apart
REFINE_FRAMES = 1  # the best measured window's neighbours this many frames either side are measured too
BLINK_REVERSED_COST = 0.5  # a ping-pong plays the blink backwards once per cycle: slow close, fast open
BLINK_IN_FADE_COST = 3.0  # a half-faded blink is a ghost
GHOST_COST = 6.0  # per unit of edge energy lost in the worst transition frame
GHOST_FREE = 0.05  # energy lost to resampling and grain, not a double image (still clips measure 0.01-0.04)
# The ghost measure and its visibility threshold are seam.py's (the seam report uses the same ones):
# d12's crossfades measure 0.3-0.47 there, its morphs 0.08-0.28.
SEARCH_COST = 0.1  # per unit of the cheap pair distance: breaks ties toward the better-matching window
MORPH_COST = 0.02  # a morph warps pixels: with no motion to hide, the plain crossfade is as good and simpler
# Per kind of seam-report warning the candidate's prediction shows, on top of the measures above: a jump or a
# repeated frame breaks a goal figure of issue 9, a visible ghost too (its size is costed by GHOST_COST), a
# reversal inside a transition is a small stutter. A blink in the fade is costed by the blink rules.
WARNING_COSTS = {"jump": 1.0, "repeated_frame": 1.0, "ghost": 0.5, "reversal": 0.3}
COMPARABLE_COST = 0.5  # a warning-free candidate this much dearer than a warned best one is still preferred
# A crossfade draws the lips of both ends: where they lie this far apart (px at the seam metric's width, as
# Face Mesh places them in the two frames a transition frame blends at weights 0.25-0.75), the fade shows a
# second lip line (d18's crossfade 58-177: 3.8-5.7 px, a double lip corner for five frames; the demo face's
# 0.7 px shows none). The edge-energy ghost averages over the face box and misses a line this small.
LIPS_APART_PX = 2.0
LIPS_APART_COST = 0.5
# Transitions tried, in this order, when the default one's best loop warns and the user gave no length: half and
# under a third of the default (at 25 fps 5 and 3 frames). A fast talker's mouth changes shape within 0.4 s, so
# a 0.4 s morph blends two mouths for four frames (the d12 clip mirrored and sped up 1.25x: ghost 0.19); a
# 0.2 s one shows a mouth that opens (ghost 0.11, one frame of faint double lip line). Each step costs a little,
# so that a still face, whose longer transition hides its grain better, keeps the default.
SHORTER_CROSSFADES_S = (0.2, 0.12)
SHORTER_FADE_COST = 0.1
# ... and where the best loop jumps, a longer one first: the two ends of a face that moves on differ more than
# 0.4 s of morph can slide without a visible lurch, and 0.6 s spreads it over half as many more frames
# (LivePortrait d10, an unseen talker: 12-frame morph 1.92x a normal step, 18-frame 0.32x, ghost 0.07).
LONGER_CROSSFADES_S = (0.6,)
# A crossfade that visibly thins a grainy face's fine detail (grain.BlendDetail.thins) is costed this much more,
# so that the morph, which keeps the grain, wins where it is otherwise as good (_unless_the_crossfade_thins_grain).
GRAIN_THIN_COST = 0.3
SHORTEST_TRANSITION_FRAMES = 3  # fewer is no blend but a cut (one frame: the head frame itself)


@dataclass
class Candidate:
    plan: LoopPlan
    report: SeamReport
    cost: float
    why: str
    ghost: float = 0.0


def lips_apart(analysis: AnalysisResult, plan: LoopPlan) -> float:
    """How far apart (px at the seam metric's width) the two ends of a crossfade place the lips, at most, over
    the transition frames that blend them at weights 0.25-0.75; 0 without a face on both ends."""
    track = analysis.track
    if plan.faded_range is None or track is None or len(track.points) < analysis.frame_count:
        return 0.0
    lips = track.points[:, list(LIP_INDICES)]
    scale = metric_width(analysis.info.width) / analysis.info.width
    n, k = plan.span, plan.crossfade_frames
    apart = 0.0
    for j in range(k - 1):
        if not 0.25 <= (j + 1) / k <= 0.75:
            continue
        tail, head = lips[plan.first + n - k + j], lips[plan.first - k + j]
        shift = np.linalg.norm(tail - head, axis=1)
        if np.isfinite(shift).all():
            apart = max(apart, float(shift.max()) * scale)
    return apart


def score(plan: LoopPlan, report: SeamReport, blink: tuple[int, int] | None,
          ghost: float = 0.0, lips: float = 0.0) -> tuple[float, str]:
    """Lower is better: seam step far from 1, motion reversals, repeated frames, ghosts, blink problems;
    `lips`: lips_apart of a crossfade."""
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
    if plan.faded_range is not None:
        cost += GHOST_COST * max(0.0, ghost - GHOST_FREE)
        notes.append(f"ghost {ghost:.2f}" + (" (double image)" if ghost > GHOST_VISIBLE else ""))
    if plan.strategy == "morph":
        cost += MORPH_COST
    if plan.strategy == "crossfade" and lips > LIPS_APART_PX:
        cost += LIPS_APART_COST
        notes.append(f"lips drawn twice ({lips:.1f} px apart)")
    # The report's own warnings over the wrap, the turns and the whole transition (docs/seam-report.md).
    kinds = sorted({w.kind for w in report.warnings})
    reversed_blink = bool(blink) and plan.strategy == "pingpong" and plan.first <= blink[0] and blink[1] <= plan.last
    if kinds:
        cost += sum(WARNING_COSTS.get(kind, 0.0) for kind in kinds)
        # the loop's own blink played backwards is said in words below, with its cost
        named = [kind for kind in kinds if not (reversed_blink and kind == "backwards_blink")]
        if named:
            notes.append("warns: " + ", ".join(named))
    if reversed_blink:
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


def _explicit_plans(analysis: AnalysisResult, loop_point: int, duration: float, crossfade: float,
                    before: float, after: float | None, strategies: tuple[str, ...]) -> list[LoopPlan]:
    """With `before` given the user placed the window: one plan per strategy, as make_plan builds it."""
    plans = []
    for strategy in strategies:
        try:
            plans.append(make_plan(strategy, analysis.info.fps, analysis.info.frame_count, loop_point,
                                   duration=duration, before=before, after=after, crossfade=crossfade))
        except PlanError:
            continue
    return plans


def _searched_plans(analysis: AnalysisResult, frames: np.ndarray, loop_point: int | None, duration: float,
                    crossfade: float, strategies: tuple[str, ...], neighbours: dict | None = None,
                    ) -> list[tuple[LoopPlan, float]]:
    """The cheapest windows of every strategy by the Video Textures distance, as plans with their cheap cost.

    `neighbours` (a dict), when given, receives the valid windows REFINE_FRAMES either side of each picked
    one that were not picked, as (strategy, first) -> (plan maker, window score), for the refinement around
    the best measured one (choose_plan)."""
    info = analysis.info
    fps = Fraction(info.fps)
    n = int(round(duration * fps))
    k = _transition_frames(analysis, duration, crossfade)
    d = diagonal_filter(pair_distances(frames, analysis))
    forward = tuple(s for s in strategies if s != "pingpong")
    scores: list = []
    for strict in (True, False):  # the blink rules bend only when no window of any strategy obeys them
        scores = score_windows(analysis, frames, n, k, forward, loop_point, strict, d)
        forward_exists = bool(scores)
        if "pingpong" in strategies:
            pingpong = score_windows(analysis, frames, n + n % 2, k, ("pingpong",), loop_point, strict, d)
            # Never a ping-pong that plays a blink backwards while a forward loop exists.
            scores += [s for s in pingpong if not (forward_exists and s.blink_reversed)]
        if scores:
            break
    scores.sort(key=lambda s: s.cost)

    def plan_of(s) -> LoopPlan:
        return LoopPlan(s.strategy, fps.numerator, fps.denominator, info.frame_count, s.first, s.last,
                        s.loop_point, k if s.strategy in BLENDED else 0)

    if any(e.exclude for e in analysis.events):  # the user's "never loop through this" blinks
        scores = [s for s in scores if not plan_conflicts(plan_of(s), analysis.events)]
    picked = best_distinct(scores, MEASURED_PER_STRATEGY, max(1, int(round(DISTINCT_GAP_S * float(fps)))))
    if neighbours is not None:
        picked_at = {(s.strategy, s.first) for s in picked}
        near = {(s.strategy, s.first + d) for s in picked for d in range(-REFINE_FRAMES, REFINE_FRAMES + 1)}
        for s in scores:
            if (s.strategy, s.first) in near - picked_at:
                neighbours.setdefault((s.strategy, s.first), (plan_of, s))
    plans = []
    for s in picked:
        try:
            plans.append((validate(plan_of(s)), s.cost))
        except PlanError:
            continue
    return plans


def choose_plan(
    analysis: AnalysisResult,
    source: Path | str,
    loop_point: int | None = None,
    duration: float = DEFAULT_DURATION_S,
    crossfade: float | None = None,
    before: float | None = None,
    strategies: tuple[str, ...] = AUTO_STRATEGIES,
    after: float | None = None,
) -> tuple[LoopPlan, list[Candidate]]:
    """Best plan by measured seam over every window of the clip (or the user's placement). Candidates sorted.

    Every window of every strategy is ranked by a cheap frame-pair distance (core/window_search.py); the
    best few are assembled from the source and measured (seam step, flow, ghost) before one is chosen.
    `crossfade` None: the default transition (DEFAULT_CROSSFADE_S), or a shorter one where that one warns
    (SHORTER_CROSSFADES_S); a length the user gives is kept.
    """
    check_times(duration, before, after, crossfade, analysis.info.fps)  # said plainly, not as "too short"
    others = LONGER_CROSSFADES_S + SHORTER_CROSSFADES_S if crossfade is None else ()
    crossfade = DEFAULT_CROSSFADE_S if crossfade is None else crossfade
    if loop_point is not None and not 0 <= loop_point < analysis.frame_count:
        raise PlanError(f"the loop point (frame {loop_point}) is outside the video "
                        f"(frames 0-{analysis.frame_count - 1})")
    if loop_point is None and not analysis.clean_events():
        raise PlanError(f"no clean blink to build a loop around ({analysis.why_no_clean_blink()})",
                        remedy=Remedy.LOOP_POINT)
    frames = small_frames(analysis, source)  # the analysis' own when it kept them
    context = SeamContext.from_analysis(analysis)
    scored = _measured_candidates(analysis, source, frames, context, loop_point, duration, crossfade, before,
                                  after, strategies)
    if not scored:
        _raise_no_plan(analysis, loop_point, duration)
    scored = prefer_warning_free(sorted(scored, key=lambda c: c.cost))
    # The default transition is a choice the planner may change: where its best loop still warns (a double
    # image: a talking mouth changes shape faster than 0.4 s of blending can hide), shorter transitions of
    # the forward strategies are measured too, each at SHORTER_FADE_COST a step (docs/seamless-loops.md,
    # "A shorter transition for a fast face"); where it jumps, a longer one (LONGER_CROSSFADES_S) first.
    blended = tuple(s for s in strategies if s in BLENDED)
    tried = {_transition_frames(analysis, duration, crossfade)}
    step = 0
    for length in others if blended else ():
        warnings = scored[0].report.warnings
        if not warnings:
            break
        if length > crossfade and not any(w.kind == "jump" for w in warnings):
            continue  # a longer blend only spreads a jump; a double image it would show for longer
        k = _transition_frames(analysis, duration, length)
        if k < SHORTEST_TRANSITION_FRAMES or k in tried:  # a low frame rate: no shorter blend to try
            continue
        tried.add(k)
        step += 1
        more = _measured_candidates(analysis, source, frames, context, loop_point, duration, length, before,
                                    after, blended)
        for c in more:
            c.cost += SHORTER_FADE_COST * step
        scored = prefer_warning_free(sorted(scored + more, key=lambda c: c.cost))
    if scored[0].plan.strategy == "crossfade" and "morph" in strategies:
        scored = _unless_the_crossfade_thins_grain(analysis, source, frames, context, scored)
    return scored[0].plan, scored


def _transition_frames(analysis: AnalysisResult, duration: float, crossfade: float) -> int:
    """The K frames a `crossfade`-second transition of a `duration`-second loop blends (_searched_plans)."""
    fps = Fraction(analysis.info.fps)
    return max(1, min(int(round(crossfade * fps)), int(round(duration * fps)) // 3))


def _raise_no_plan(analysis: AnalysisResult, loop_point: int | None, duration: float) -> None:
    """The PlanError of a request no window fits, saying which limit it hit."""
    n = int(round(duration * float(analysis.info.fps)))
    if n < 4:
        raise PlanError(f"a {duration:g} s loop is only {n} frame(s) at {float(analysis.info.fps):g} fps; "
                        f"a loop needs at least 4 frames")
    count = analysis.frame_count
    if loop_point is not None and n < count:  # the clip is long enough: the point is too near an end
        raise PlanError(f"no {duration:g} s loop around frame {loop_point} fits inside the video (frames "
                        f"0-{count - 1}, with the frames a fade reads before its window): the frame is too "
                        f"near an end", remedy=Remedy.SHORTER_DURATION_OR_LOOP_POINT)
    raise PlanError(f"the video is too short for a {duration:g} s loop with a whole blink"
                    + ("" if loop_point is None else f" around frame {loop_point}"),
                    remedy=Remedy.SHORTER_DURATION_OR_LOOP_POINT)


def _measured_candidates(analysis: AnalysisResult, source: Path | str, frames: np.ndarray, context: SeamContext,
                         loop_point: int | None, duration: float, crossfade: float, before: float | None,
                         after: float | None, strategies: tuple[str, ...]) -> list[Candidate]:
    """The windows of `strategies` with a `crossfade`-second transition, searched (or the user's placement)
    and the best few measured fully, as unsorted candidates; empty when none fits."""
    neighbours: dict = {}  # searched windows not measured yet: (strategy, first) -> (plan maker, score)
    if before is not None:
        point = loop_point if loop_point is not None else analysis.best_blink().apex
        plans = [(p, 0.0) for p in _explicit_plans(analysis, point, duration, crossfade, before, after, strategies)
                 if not plan_conflicts(p, analysis.events)]
    else:
        plans = _searched_plans(analysis, frames, loop_point, duration, crossfade, strategies, neighbours)
    scored: list[Candidate] = []
    # A morph only removes a double image: where the crossfade of the same window measures none (at most
    # GHOST_FREE), the morph is not assembled and measured, which is most of planning's time on still clips.
    plans = sorted(plans, key=lambda pc: pc[0].strategy == "morph")
    ghost_free: set[tuple[int, int, int]] = set()

    def measure(plan: LoopPlan, cheap: float) -> None:
        candidate, lips = _measured(analysis, source, frames, context, plan, cheap)
        if plan.strategy == "crossfade" and candidate.ghost <= GHOST_FREE and lips <= LIPS_APART_PX:
            ghost_free.add((plan.first, plan.last, plan.crossfade_frames))
        scored.append(candidate)

    for plan, cheap in plans:
        if plan.strategy == "morph" and (plan.first, plan.last, plan.crossfade_frames) in ghost_free:
            continue
        measure(plan, cheap)
    # The measured seam can change a lot from one start frame to the next (grain, a blink's edge) while the
    # cheap distance, and the 0.2 s gap between measured windows, cannot see it: measure the best one's
    # neighbours too (docs/seamless-loops.md, "Full measurement").
    if scored:
        best = min(scored, key=lambda c: c.cost).plan
        for delta in range(-REFINE_FRAMES, REFINE_FRAMES + 1):
            entry = neighbours.pop((best.strategy, best.first + delta), None)
            if entry is None:
                continue
            plan_of, window = entry
            try:
                measure(validate(plan_of(window)), window.cost)
            except PlanError:
                continue
    return scored


def _measured(analysis: AnalysisResult, source: Path | str, frames: np.ndarray, context: SeamContext,
              plan: LoopPlan, cheap: float) -> tuple[Candidate, float]:
    """`plan` measured as the export will predict it (flow over the wrap, the turns and the transition, ghost,
    warnings) and scored; with lips_apart of a crossfade (else 0)."""
    event = next((e for e in analysis.events if e.start <= plan.loop_point <= e.end), None)
    span = (event.start, event.end) if event else None
    report = predict_plan_metrics(source, plan, frames=frames, context=context)
    ghost = report.ghost or 0.0
    lips = lips_apart(analysis, plan) if plan.strategy == "crossfade" else 0.0
    cost, why = score(plan, report, span, ghost, lips)
    return Candidate(plan, report, cost + SEARCH_COST * cheap, why, ghost), lips


def _unless_the_crossfade_thins_grain(analysis: AnalysisResult, source: Path | str, frames: np.ndarray,
                                      context: SeamContext, scored: list[Candidate]) -> list[Candidate]:
    """`scored` (sorted, a crossfade first), or, where a plain blend of two of the clip's frames a loop apart
    visibly thins their fine detail (grain.BlendDetail.thins; the landmark pass measures it), the same with
    every crossfade costed GRAIN_THIN_COST more and the morph of the best one's window measured: the morph
    hands the grain over (morph.keep_grain). The seam measures' 160 px frames hold no grain to see."""
    detail = analysis.track.blend_detail if analysis.track is not None else None
    if detail is None or not detail.thins:
        return scored
    for c in scored:
        if c.plan.strategy == "crossfade":
            c.cost += GRAIN_THIN_COST
            c.why += f", thins the grain (keeps {detail.kept:.2f} of the fine detail)"
    morph = replace(scored[0].plan, strategy="morph")
    if not any(c.plan == morph for c in scored):
        scored.append(_measured(analysis, source, frames, context, morph, 0.0)[0])
    return prefer_warning_free(sorted(scored, key=lambda c: c.cost))


def prefer_warning_free(candidates: list[Candidate]) -> list[Candidate]:
    """Candidates (sorted by cost) with the cheapest warning-free one first when the best one warns and the
    warning-free one costs at most COMPARABLE_COST more: a seam the report calls seamless beats a slightly
    better-scored one it does not."""
    if not candidates or not candidates[0].report.warnings:
        return candidates
    best = candidates[0].cost
    for i, c in enumerate(candidates):
        if not c.report.warnings and c.cost <= best + COMPARABLE_COST:
            return [c] + candidates[:i] + candidates[i + 1:]
    return candidates


def explain(candidates: list[Candidate], limit: int = 4) -> str:
    def transition(plan: LoopPlan) -> str:
        k = plan.crossfade_frames
        article = "an" if str(k).startswith("8") or k in (11, 18) else "a"
        return "" if plan.faded_range is None else f", {article} {k}-frame {plan.strategy}"

    best = candidates[0]
    p = best.plan
    lines = [f"auto: chose {p.strategy} frames {p.first}-{p.last} around frame {p.loop_point}{transition(p)} "
             f"(cost {best.cost:.2f}: {best.why})"]
    for c in candidates[1:limit]:
        p = c.plan
        lines.append(f"  rather than {p.strategy} frames {p.first}-{p.last} around {p.loop_point}{transition(p)} "
                     f"(cost {c.cost:.2f}: {c.why})")
    return "\n".join(lines)


@dataclass
class PlanChoice:
    plan: LoopPlan
    explanation: str
    fallback: bool  # no clean blink: the plan sits around the most closed eyes (or the middle) instead
    prediction: SeamReport | None = None  # the plan's report from source frames: the export reuses it


def plan_loop(
    analysis: AnalysisResult,
    source: Path | str,
    strategy: str = "auto",
    loop_point: int | None = None,
    duration: float = DEFAULT_DURATION_S,
    before: float | None = None,
    after: float | None = None,
    crossfade: float | None = None,
    fallback: bool = False,
) -> PlanChoice:
    """The plan every front end uses: measured candidates for `strategy` (or all three, for auto).

    With no loop point and no clean blink, raise PlanError, or with `fallback` build the plan around the
    most closed eyes in the clip (the middle when no face was seen) and say so.
    """
    strategies = AUTO_STRATEGIES if strategy == "auto" else (strategy,)
    try:
        plan, candidates = choose_plan(analysis, source, loop_point=loop_point, duration=duration,
                                       crossfade=crossfade, before=before, strategies=strategies, after=after)
        return PlanChoice(plan, explain(candidates), False, candidates[0].report)
    except PlanError:
        if loop_point is not None or not fallback:
            raise
    openness = np.where(np.isfinite(analysis.openness), analysis.openness, np.inf)
    seen = bool(np.isfinite(openness).any())
    point = int(np.argmin(openness)) if seen else analysis.frame_count // 2
    plan, candidates = choose_plan(analysis, source, loop_point=point, duration=duration, crossfade=crossfade,
                                   before=before, strategies=strategies, after=after)
    where = f"the most closed eyes (frame {point})" if seen else "the middle of the clip (no face seen)"
    return PlanChoice(plan, f"no clean blink found; the loop is built around {where}\n" + explain(candidates), True,
                      candidates[0].report)
