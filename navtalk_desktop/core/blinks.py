"""Blink events from an EAR curve, with a per-video adaptive baseline and prominence rules.

A fixed EAR threshold fails across faces (open-eye EAR ranges 0.20-0.37), so the curve is divided by a
rolling 75th-percentile baseline ("openness", 1.0 = open) and dips are found by prominence, which also
separates blinks from squints and gaze-down plateaus. See docs/design-notes.md, "blink-detection".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .ear import mean_of_eyes
from .peaks import find_peaks

MAX_APEX_OPENNESS = 0.65  # the apex must fall below this fraction of the open level
MIN_PROMINENCE = 0.30  # and drop at least this much relative to its surroundings
MAX_BLINK_S = 0.5  # longer events are long closures, not blinks
MIN_SEPARATION_S = 0.15  # closer apexes are one blink
GAP_FILL_S = 0.1  # face-less gaps up to this long are interpolated
CLEAN_MIN_DEPTH = 0.4  # a loop point needs a clearly closed eye
CLEAN_EDGE_S = 0.5  # and room on both sides


@dataclass
class BlinkEvent:
    start: int
    apex: int
    end: int
    depth: float  # 1 - openness at the apex
    confidence: float  # 0..1, for ranking and shading in the UI
    kind: str  # "blink" or "long_closure"
    touches_edge: bool
    touches_gap: bool
    both_eyes: bool
    eye: str = "both"  # which eye closed: "both", "right" or "left"
    origin: str = "detected"  # "detected", "edited" (a detected event the user changed) or "added"
    exclude: bool = False  # the user's "never loop through this": no seam crosses it, never played backwards
    key: str = ""  # identity for edits: "d<detected apex>" or "a<index among added>"

    @property
    def truncated(self) -> bool:
        return self.touches_edge or self.touches_gap

    def is_clean(self, n_frames: int, fps: float) -> bool:
        """Usable as a loop point: a full, deep blink of both eyes, away from the clip edges.

        A blink the user edited or added is deep enough by their word; an excluded one never is usable.
        """
        return not self.why_not_clean(n_frames, fps)

    def why_not_clean(self, n_frames: int, fps: float) -> str:
        """Why the event is no loop point, in a few words ("" when it is one): what a user who has to pick a
        frame by hand needs to know about the closures the clip does have."""
        margin = CLEAN_EDGE_S * fps
        if self.exclude:
            return "marked never to loop through"
        if self.kind != "blink":
            return f"lasts {(self.end - self.start + 1) / fps:.2f} s, longer than a blink ({MAX_BLINK_S:g} s)"
        if self.touches_edge:
            return "cut by the clip's edge"
        if self.touches_gap:
            return "the face is lost during it"
        if not self.both_eyes:
            return f"one eye only ({self.eye})"
        if self.depth < CLEAN_MIN_DEPTH and self.origin == "detected":
            return f"too shallow (depth {self.depth:.2f}, a loop point needs {CLEAN_MIN_DEPTH:g})"
        if self.apex < margin:
            return f"{self.apex / fps:.2f} s from the clip's start (a loop point needs {CLEAN_EDGE_S:g} s)"
        if self.apex > n_frames - 1 - margin:
            return f"{(n_frames - 1 - self.apex) / fps:.2f} s from the clip's end (a loop point needs {CLEAN_EDGE_S:g} s)"
        return ""

    def to_dict(self) -> dict:
        data = asdict(self)
        data["truncated"] = self.truncated
        return data


def fill_short_gaps(curve: np.ndarray, max_gap: int) -> np.ndarray:
    """Linear interpolation across NaN runs of at most `max_gap` frames that have data on both sides."""
    out = curve.astype(np.float64).copy()
    n = len(out)
    i = 0
    while i < n:
        if np.isnan(out[i]):
            j = i
            while j < n and np.isnan(out[j]):
                j += 1
            if i > 0 and j < n and (j - i) <= max_gap:
                out[i:j] = np.interp(np.arange(i, j), [i - 1, j], [out[i - 1], out[j]])
            i = j
        else:
            i += 1
    return out


def _nan_percentile_rows(rows: np.ndarray, q: float) -> np.ndarray:
    """np.nanpercentile(rows, q, axis=1) (linear method) in one sort: numpy's own loops over the rows."""
    ordered = np.sort(rows, axis=1)  # NaN sorts last
    valid = (~np.isnan(ordered)).sum(axis=1)
    out = np.full(len(rows), np.nan)
    seen = valid > 0  # an all-NaN window stays NaN
    pos = (valid[seen] - 1) * (q / 100.0)
    lo = np.floor(pos).astype(np.intp)
    hi = np.minimum(lo + 1, valid[seen] - 1)
    picked = ordered[seen]
    at = np.arange(len(picked))
    a, b = picked[at, lo], picked[at, hi]
    out[seen] = a + (b - a) * (pos - lo)
    return out


def openness(curve: np.ndarray, fps: float) -> np.ndarray:
    """EAR divided by a rolling 75th-percentile baseline over +-1 s (clip median for clips under 3 s)."""
    n = len(curve)
    valid = ~np.isnan(curve)
    if valid.sum() == 0:
        return np.full(n, np.nan)
    if n < 3 * fps:
        base = np.full(n, np.nanmedian(curve))
    else:
        half = int(round(fps))
        padded = np.concatenate([np.full(half, np.nan), curve, np.full(half, np.nan)])
        windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
        base = _nan_percentile_rows(windows, 75.0)
        base = fill_short_gaps(base, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return curve / base


def _walk(o: np.ndarray, apex: int, step: int, threshold: float, limit: int) -> int:
    """From the apex, the last frame still below `threshold` before the curve recovers."""
    i = apex
    while i != limit and o[i + step] < threshold:
        i += step
    return i


@dataclass(frozen=True)
class Thresholds:
    """The detector's rules; the defaults suit most faces, `blink_edits.fit_thresholds` fits one face."""

    max_apex_openness: float = MAX_APEX_OPENNESS
    min_prominence: float = MIN_PROMINENCE
    max_blink_s: float = MAX_BLINK_S


def closed_eye(per_eye: list[float], depth: float) -> str:
    """"both" when each eye's openness dropped by at least half the depth, else the eye that closed more."""
    both = all(np.isfinite(v) and v < 1.0 - 0.5 * depth for v in per_eye)
    if both:
        return "both"
    r, l_ = (v if np.isfinite(v) else 1.0 for v in per_eye)
    return "right" if r <= l_ else "left"


def detect_blinks(right: np.ndarray, left: np.ndarray, fps: float,
                  thresholds: Thresholds = Thresholds()) -> tuple[list[BlinkEvent], np.ndarray]:
    """Blink events from per-eye EAR curves (NaN where no face). Returns the events and the openness curve."""
    n = len(right)
    if n == 0:
        return [], np.zeros(0)
    face = ~(np.isnan(right) & np.isnan(left))
    max_gap = max(2, int(round(GAP_FILL_S * fps)))
    mean = mean_of_eyes(right, left)
    o = openness(fill_short_gaps(mean, max_gap), fps)
    o_right = openness(fill_short_gaps(right, max_gap), fps)
    o_left = openness(fill_short_gaps(left, max_gap), fps)
    searchable = np.where(np.isnan(o), 1.0, o)
    peaks, props = find_peaks(
        -searchable,
        height=-thresholds.max_apex_openness,
        prominence=thresholds.min_prominence,
        wlen=max(3, int(round(fps)) | 1),
        distance=max(1, int(round(MIN_SEPARATION_S * fps))),
    )
    events = []
    for k, peak in enumerate(peaks):
        low = searchable[peak]
        left_level = searchable[props["left_bases"][k]]
        right_level = searchable[props["right_bases"][k]]
        start = _walk(searchable, peak, -1, left_level - 0.2 * (left_level - low), props["left_bases"][k])
        end = _walk(searchable, peak, +1, right_level - 0.2 * (right_level - low), props["right_bases"][k])
        depth = float(1.0 - low)
        # The most-closed frame: the middle of the frames within 10 % of the minimum (plateaus tie).
        span = np.arange(start, end + 1)
        near_min = span[searchable[span] <= low + 0.1 * depth]
        apex = int(near_min[len(near_min) // 2]) if len(near_min) else int(peak)
        duration_s = (end - start + 1) / fps
        window = slice(max(0, apex - 1), min(n, apex + 2))
        per_eye = [np.nanmin(c[window]) if np.any(~np.isnan(c[window])) else np.nan for c in (o_right, o_left)]
        eye = closed_eye(per_eye, depth)
        both = eye == "both"
        touches_edge = start <= 0 or end >= n - 1
        touches_gap = not face[max(0, start - 1) : min(n, end + 2)].all()
        symmetry = 1.0 - min(1.0, abs(per_eye[0] - per_eye[1]) / max(depth, 1e-6)) if both else 0.0
        depth_score = float(np.clip((depth - thresholds.min_prominence) / 0.5, 0.0, 1.0))
        edge_score = float(np.clip(min(apex, n - 1 - apex) / (CLEAN_EDGE_S * fps), 0.0, 1.0))
        confidence = 0.6 * depth_score + 0.25 * symmetry + 0.15 * edge_score
        if touches_gap:
            confidence *= 0.5
        events.append(
            BlinkEvent(
                start=int(start),
                apex=apex,
                end=int(end),
                depth=round(depth, 4),
                confidence=round(float(confidence), 4),
                kind="blink" if duration_s <= thresholds.max_blink_s else "long_closure",
                touches_edge=bool(touches_edge),
                touches_gap=bool(touches_gap),
                both_eyes=bool(both),
                eye=eye,
                key=f"d{apex}",
            )
        )
    return events, o
