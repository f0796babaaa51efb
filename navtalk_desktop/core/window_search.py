"""Every loop window of a clip, scored cheaply, as Video Textures does (Schödl et al. 2000).

One distance between every pair of frames: the face crop as a tiny gray image plus Face Mesh head pose and
mouth opening, filtered along the diagonal so that two frames only count as alike when their neighbours are
alike too (the motion continues across the seam). A blended loop (crossfade, morph) of n frames with a
K-frame transition blends source frames i and i + n for the K frames before `first`; a ping-pong turns at
`first` and `last`, where it replaces frame last+1 by last-1. Those distances rank every window in
milliseconds; core/auto_loop.py then measures the best few fully. Blink rules are hard filters here:
no blink in a transition, at least one whole blink in the loop (docs/seamless-loops.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .analysis import AnalysisResult
from .ear import LEFT_EYE, RIGHT_EYE
from .loop_plan import BLENDED

THUMB_WIDTH = 48  # face crop width for the pair distance: enough for pose and mouth, 2k pixels a frame
DIAGONAL_WEIGHTS = (1.0, 3.0, 3.0, 1.0)  # binomial, offsets -2..1 (the paper's m = 2)
FEATURE_WEIGHT = 0.5  # each landmark feature (yaw, pitch, roll, mouth), in clip standard deviations
EYES_OPEN = 0.8  # openness below this at a transition frame costs: seams look best with open eyes
EYES_CLOSED_COST = 4.0  # per unit of openness missing below EYES_OPEN
BLINK_MARGIN = 1  # frames around a blink event that a transition must also avoid
MOUTH_INNER = (13, 14)
MOUTH_CORNERS = (61, 291)
NOSE_TIP = 1
RULE_BROKEN_COST = 100.0  # with strict=False a broken blink rule costs this instead of excluding the window


@dataclass
class WindowScore:
    strategy: str
    first: int
    last: int
    loop_point: int  # the apex of the blink the loop contains (or the loop point it was asked to contain)
    cost: float  # lower is better; ~1 means one typical frame step of difference at the seam
    blink_reversed: bool = False  # a ping-pong containing a blink plays it backwards once a cycle


def face_box(analysis: AnalysisResult, width: int, height: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of every face position in the clip, in a (width x height) frame; the frame if none."""
    track = analysis.track
    if track is None or not track.face_present.any():
        return 0, 0, width, height
    pts = track.points[track.face_present]
    sx, sy = width / track.width, height / track.height
    x0, x1 = np.nanmin(pts[..., 0]) * sx, np.nanmax(pts[..., 0]) * sx
    y0, y1 = np.nanmin(pts[..., 1]) * sy, np.nanmax(pts[..., 1]) * sy
    pad_x, pad_y = 0.1 * (x1 - x0), 0.1 * (y1 - y0)
    box = (int(max(0, x0 - pad_x)), int(max(0, y0 - pad_y)), int(min(width, x1 + pad_x + 1)),
           int(min(height, y1 + pad_y + 1)))
    return box if box[2] - box[0] >= 8 and box[3] - box[1] >= 8 else (0, 0, width, height)


def _filled(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, np.float64)
    ok = np.isfinite(values)
    if not ok.any():
        return np.zeros_like(values)
    idx = np.arange(len(values))
    return np.interp(idx, idx[ok], values[ok])


def landmark_features(analysis: AnalysisResult) -> np.ndarray:
    """(n, 4): yaw, pitch and roll proxies and mouth opening, each in units of its own clip spread."""
    n = analysis.frame_count
    track = analysis.track
    if track is None or not track.face_present.any():
        return np.zeros((n, 4))
    p = track.points.astype(np.float64)
    right = p[:, list(RIGHT_EYE)].mean(axis=1)
    left = p[:, list(LEFT_EYE)].mean(axis=1)
    mid, axis = (right + left) / 2, left - right
    iod = np.linalg.norm(axis, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        nose = (p[:, NOSE_TIP] - mid) / iod[:, None]
        roll = np.arctan2(axis[:, 1], axis[:, 0])
        mouth = (np.linalg.norm(p[:, MOUTH_INNER[0]] - p[:, MOUTH_INNER[1]], axis=1)
                 / np.linalg.norm(p[:, MOUTH_CORNERS[0]] - p[:, MOUTH_CORNERS[1]], axis=1))
    feats = np.stack([_filled(nose[:, 0]), _filled(nose[:, 1]), _filled(roll), _filled(mouth)], axis=1)
    spread = np.maximum(feats.std(axis=0), [0.01, 0.01, 0.005, 0.01])  # a still face: noise is not a feature
    return feats / spread


def pair_distances(small_frames: np.ndarray, analysis: AnalysisResult) -> np.ndarray:
    """(n, n) distance between frames, 1.0 = the clip's median step between neighbouring frames."""
    n, h, w = small_frames.shape
    x0, y0, x1, y1 = face_box(analysis, w, h)
    tw = min(THUMB_WIDTH, x1 - x0)
    th = max(4, int(round((y1 - y0) * tw / (x1 - x0))))
    thumbs = np.stack([cv2.resize(f[y0:y1, x0:x1], (tw, th), interpolation=cv2.INTER_AREA) for f in small_frames])
    v = thumbs.reshape(n, -1).astype(np.float64)
    sq = (v * v).sum(axis=1)
    d = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * v @ v.T, 0.0) / v.shape[1])
    step = float(np.median(np.diag(d, 1))) if n > 1 else 1.0
    d = d / max(step, 0.05)
    feats = landmark_features(analysis)[:n]
    if len(feats) == n:
        d = d + FEATURE_WEIGHT * np.abs(feats[:, None, :] - feats[None, :, :]).sum(axis=2)
    return d


def diagonal_filter(d: np.ndarray, weights: tuple[float, ...] = DIAGONAL_WEIGHTS) -> np.ndarray:
    """D'(i, j) = sum_k w_k D(i+k, j+k) over offsets -m..m-1, renormalised where the offsets leave the clip."""
    n = len(d)
    m = len(weights) // 2
    acc = np.zeros_like(d)
    norm = np.zeros_like(d)
    for w, k in zip(weights, range(-m, m)):
        lo, hi = max(0, -k), min(n, n - k)
        acc[lo:hi, lo:hi] += w * d[lo + k:hi + k, lo + k:hi + k]
        norm[lo:hi, lo:hi] += w
    return acc / np.maximum(norm, 1e-9)


def _overlaps(a: int, b: int, spans: list[tuple[int, int]]) -> bool:
    return any(s - BLINK_MARGIN <= b and a <= e + BLINK_MARGIN for s, e in spans)


def score_windows(analysis: AnalysisResult, small_frames: np.ndarray, n_out: int, crossfade_frames: int,
                  strategies: tuple[str, ...], loop_point: int | None = None, strict: bool = True,
                  distances: np.ndarray | None = None) -> list[WindowScore]:
    """Every window that obeys the blink rules, for each strategy, sorted by cost (cheapest first).

    Blended windows keep every blink event out of both transition ranges and contain a whole blink in their
    unfaded part (with `loop_point`: contain that frame instead). Ping-pong windows contain their blink or
    loop point anywhere in the span and are marked `blink_reversed` when a blink lies inside. With
    strict=False (for clips where no window obeys), a broken rule costs RULE_BROKEN_COST instead; a loop
    point must still be inside. `distances`: the diagonal-filtered pair distances, if already computed.
    """
    frames = analysis.frame_count
    d = diagonal_filter(pair_distances(small_frames, analysis)) if distances is None else distances
    openness = _filled(analysis.openness) if np.isfinite(analysis.openness).any() else np.ones(frames)
    events = analysis.events
    spans = [(e.start, e.end) for e in events]
    clean = analysis.clean_events()
    wanted = clean or [e for e in events if e.kind == "blink"]

    def eyes_cost(lo: int, hi: int) -> float:
        return EYES_CLOSED_COST * max(0.0, EYES_OPEN - float(openness[lo:hi + 1].min()))

    def anchor(lo: int, hi: int) -> tuple[int | None, float]:
        if loop_point is not None:
            return (loop_point if lo <= loop_point <= hi else None), 0.0
        inside = [e for e in wanted if lo <= e.start and e.end <= hi]
        if inside:
            return max(inside, key=lambda e: e.confidence).apex, 0.0
        return (None, 0.0) if strict else ((lo + hi) // 2, RULE_BROKEN_COST)

    out: list[WindowScore] = []
    for strategy in strategies:
        if strategy in BLENDED:
            k = crossfade_frames
            for first in range(k, frames - n_out + 1):
                last = first + n_out - 1
                broken = _overlaps(first - k, first - 1, spans) or _overlaps(last - k + 1, last, spans)
                if broken and strict:
                    continue
                point, cost = anchor(first, last - k)
                if point is None:
                    continue
                heads = np.arange(first - k, first)
                cost += float(d[heads, heads + n_out].mean()) + (RULE_BROKEN_COST if broken else 0.0)
                cost += eyes_cost(first - k, first - 1) + eyes_cost(last - k + 1, last)
                out.append(WindowScore(strategy, first, last, point, cost))
        elif strategy == "pingpong":
            span = n_out // 2 + 1
            for first in range(0, frames - span + 1):
                last = first + span - 1
                point, cost = anchor(first, last)
                if point is None:
                    continue
                for turn, back in ((last, last - 1), (first, first + 1)):
                    ahead = 2 * turn - back  # the frame the clip would have played instead
                    cost += float(d[back, ahead] if 0 <= ahead < frames else 2.0 * d[back, turn])
                cost += eyes_cost(first, first) + eyes_cost(last, last)
                out.append(WindowScore(strategy, first, last, point, cost,
                                       blink_reversed=_overlaps(first, last, spans)))
    out.sort(key=lambda s: s.cost)
    return out


def best_distinct(scores: list[WindowScore], per_strategy: int, min_gap: int) -> list[WindowScore]:
    """The cheapest few windows of each strategy, at least `min_gap` frames apart (no near-duplicates)."""
    picked: dict[str, list[WindowScore]] = {}
    for s in scores:
        mine = picked.setdefault(s.strategy, [])
        if len(mine) < per_strategy and all(abs(s.first - o.first) >= min_gap for o in mine):
            mine.append(s)
    return [s for group in picked.values() for s in group]
