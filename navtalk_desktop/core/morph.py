"""The `morph` seam: transition frames that warp both ends toward each other along dense optical flow.

A crossfade blends two head positions and shows a double head when the face moved between them. Here each
transition frame j blends the tail frame A (fading out) with the head frame B (fading in) after moving both
to the in-between geometry: with F the flow A->B splatted forward to the in-between time g (`inbetween_flow`:
U(x + g F(x)) = F(x)), at B's weight t
    A' = A sampled at x - g U(x),  B' = B sampled at x + (1-g) U(x),  frame = (1-t)*A' + t*B'
so a moved head slides into place (docs/seamless-loops.md). Flow is OpenCV's DIS, computed on gray frames
at most FLOW_WIDTH wide and scaled up, which keeps the full-resolution export cheap; where the two ends
already agree (a still wall behind the head) the flow is dropped (`moving_weight`).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from . import media
from .cancel import CancelToken
from .errors import InputError
from .flow_threads import map_flows
from .grain import AGREE_SIGMA, GRAIN_SIGMA
from .loop_plan import LoopPlan

FLOW_WIDTH = 160  # the seam prediction's own width (seam.METRIC_WIDTH). Flow is smooth: at 480 or 240 it cost
# 10x or 3x the time and found nothing a face needs (d12, d18, 1080p: the same ghost and seam on the file, the
# same frames by eye; docs/seamless-loops.md)
STEP_WIDTH = 64  # gray width at which the source's own frame steps are compared (they pace the slide)
SLIDE_FLOOR = 0.25  # of the mean step: every transition step slides a little, a still stretch no less
SLIDE_CAP = 3.0  # no step takes more than this many uniform shares of the slide


def _gray(img: np.ndarray) -> np.ndarray:
    return img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)


def dense_flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Flow (h, w, 2) in a's pixels such that a(x) ~ b(x + flow(x)); RGB or gray uint8 inputs. Computed once
    per pair (at most FLOW_WIDTH wide) and scaled to a's size."""
    ga = _gray(a)
    return _sized(_small_flow(*_flow_frames(ga, _gray(b))), ga.shape[1], ga.shape[0])


def _flow_frames(ga: np.ndarray, gb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two gray frames at the flow's width (at most FLOW_WIDTH)."""
    h, w = ga.shape
    scale = min(1.0, FLOW_WIDTH / w)
    if scale < 1.0:
        size = (int(round(w * scale)), int(round(h * scale)))
        ga, gb = cv2.resize(ga, size, interpolation=cv2.INTER_AREA), cv2.resize(gb, size, interpolation=cv2.INTER_AREA)
    return ga, gb


def _small_flow(sa: np.ndarray, sb: np.ndarray) -> np.ndarray:
    """DIS flow sa -> sb at their own size, the still background's dropped (moving_weight); cached."""
    flow = _flow_cache.get(sa, sb)
    if flow is None:
        flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(sa, sb, None)
        flow = _flow_cache.put(sa, sb, flow * moving_weight(sa, sb, flow)[..., None])
    return flow


def _sized(field: np.ndarray, width: int, height: int) -> np.ndarray:
    """A small flow at (width, height), its vectors scaled to that size."""
    fh, fw = field.shape[:2]
    if (width, height) == (fw, fh):
        return field
    sized = cv2.resize(field, (width, height), interpolation=cv2.INTER_LINEAR)
    sized[..., 0] *= width / fw
    sized[..., 1] *= height / fh
    return sized


# The in-between flow. Warping each end by its own flow taken at the in-between pixel (x - g F(x)) holds only
# where the flow is smooth; where a head moves over a background that moves otherwise (a camera that travels,
# LivePortrait's s18: the wall 15 px, the head 3-6 px at 160 px), the flow jumps at the hair, and both warps
# stretch the jump into swirls of hair across the wall for the middle of the transition. As in frame
# interpolation (Baker et al. 2011, "A Database and Evaluation Methodology for Optical Flow", section 3.3),
# the flow a->b is splatted forward to the in-between time, the best-matching pixel winning where several land
# (a z-buffer by match error, where a pixel whose forward and backward flows disagree matches worse), the holes
# filled from their neighbours, and both ends are sampled along that one flow. (Weighting each pixel toward the
# end that alone holds it, as Baker et al. do for one in-between frame, changed nothing visible on s18, and
# broke the blend's (1 - t) : t where the flow finds no match at all: left out.)
DISAGREEMENT_COST = 4.0  # match error (grey levels) per px that the forward and backward flows disagree
# A flow is trusted as far as it matches: fully where the pixel it carries differs from its match by under
# TRUST_LO grey levels (blurred; at the flow's width, where grain is gone), not at all beyond TRUST_HI. Where
# the two ends show unrelated pictures the in-between pixel then blends in place, as a crossfade does, instead
# of dragging one picture across the other; a 12 px slide keeps its whole flow. Not lower: at 8-24 d12's mouth,
# which changes shape, blended in place too (predicted ghost 0.05 -> 0.15, a second set of lips).
TRUST_LO, TRUST_HI = 16.0, 48.0


def _disagreement(f: np.ndarray, back: np.ndarray) -> np.ndarray:
    """|f(x) + back(x + f(x))|: how far x comes from home, there along f and back along the other flow."""
    h, w = f.shape[:2]
    gx, gy = _grid(h, w)
    returned = cv2.remap(back, gx + f[..., 0], gy + f[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.linalg.norm(f + returned, axis=2)


def inbetween_flow(sa: np.ndarray, sb: np.ndarray, g: float) -> np.ndarray:
    """At the flow's size, the flow u of the in-between frame at time g: its pixel x came from sa at x - g u
    and goes to sb at x + (1 - g) u. Both ends splat: sa's pixels along a->b, sb's back along b->a, so where
    one direction's flow is poor (DIS is not symmetric: 9 +- 5 px one way, 12.1 +- 0.4 the other, for a 12 px
    shift) the better match wins."""
    f, back = _small_flow(sa, sb), _small_flow(sb, sa)
    h, w = f.shape[:2]
    targets, costs, flows, trusts = [], [], [], []
    for src, dst, flow, other, at, sign in ((sa, sb, f, back, g, 1.0), (sb, sa, back, f, 1.0 - g, -1.0)):
        t, c, v, r = _splat(src, dst, flow, other, at)
        targets.append(t)
        costs.append(c)
        flows.append(sign * v)
        trusts.append(r)
    targets, costs, flows, trusts = (np.concatenate(x) for x in (targets, costs, flows, trusts))
    # a z-buffer: per target the entry of lowest cost (cost in 1/64 grey levels above the entry's index)
    key = (np.rint(np.minimum(costs, 1e6) * 64).astype(np.int64) << 24) | np.arange(len(targets), dtype=np.int64)
    best = np.full(h * w, np.iinfo(np.int64).max, np.int64)
    np.minimum.at(best, targets, key)
    landed = best != np.iinfo(np.int64).max
    winner = best[landed] & ((1 << 24) - 1)
    u = np.zeros((h * w, 2), np.float32)
    have = landed.astype(np.float32)
    # the best match's flow, as far as it is trusted: where no flow brings its pixel home (the two ends show
    # unrelated pictures there) the in-between pixel blends in place, as a crossfade would
    u[landed] = flows[winner] * trusts[winner][:, None]
    u, have = u.reshape(h, w, 2), have.reshape(h, w)
    for _ in range(max(h, w)):  # holes from their neighbours, outside in
        if have.all():
            break
        weight = cv2.GaussianBlur(have, (0, 0), 1.5)
        filled = cv2.GaussianBlur(u * have[..., None], (0, 0), 1.5) / np.maximum(weight, 1e-6)[..., None]
        new = (have == 0) & (weight > 1e-3)
        if not new.any():
            break
        u[new] = filled[new]
        have[new] = 1.0
    # neighbouring pixels won by different ends carry slightly different flows (a->b is not exactly minus
    # b->a): a median, then a light blur, so the warp does not speckle (d12's hairline)
    u = np.dstack([cv2.medianBlur(np.ascontiguousarray(u[..., c]), 5) for c in range(2)])
    return cv2.GaussianBlur(u, (0, 0), 1.0)


def _splat(src: np.ndarray, dst: np.ndarray, flow: np.ndarray, back: np.ndarray, at: float):
    """src's pixels moved `at` of the way along `flow` (src -> dst): the in-between pixel where each lands
    (flat indices; the two ends together leave few holes), the cost of its match in dst, its flow, and how
    far that flow is trusted (`_match`)."""
    h, w = flow.shape[:2]
    gx, gy = _grid(h, w)
    match = _match(src, dst, flow, back)
    flow = flow.reshape(-1, 2)
    tx = np.rint(gx.ravel() + at * flow[:, 0]).astype(np.int64)
    ty = np.rint(gy.ravel() + at * flow[:, 1]).astype(np.int64)
    inside = (tx >= 0) & (tx < w) & (ty >= 0) & (ty < h)
    return (ty * w + tx)[inside], match[inside, 0], flow[inside], match[inside, 1]


def _match(src: np.ndarray, dst: np.ndarray, flow: np.ndarray, back: np.ndarray) -> np.ndarray:
    """Per pixel of src (flat): the cost of its match in dst along `flow` (its error, plus DISAGREEMENT_COST
    per px that `back` fails to bring it home) and how far the flow is trusted (TRUST_LO, TRUST_HI). The
    same for every in-between time, and planning morphs neighbouring windows that share pairs: cached."""
    cached = _match_cache.get(src, dst)
    if cached is not None:
        return cached
    h, w = flow.shape[:2]
    gx, gy = _grid(h, w)
    matched = cv2.remap(dst, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    error = np.abs(src.astype(np.float32) - matched.astype(np.float32))
    cost = error + DISAGREEMENT_COST * _disagreement(flow, back)
    trust = np.clip((TRUST_HI - cv2.GaussianBlur(error, (0, 0), 1.5)) / (TRUST_HI - TRUST_LO), 0.0, 1.0)
    return _match_cache.put(src, dst, np.stack([cost.ravel(), trust.ravel()], axis=1))


STILL_MATCH = (3.0, 8.0)  # gray levels (mean over ~3 px at FLOW_WIDTH): frames this close need no motion
STILL_MARGIN = 1.0  # ... unless the flow matches them better than this


def moving_weight(ga: np.ndarray, gb: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Per pixel of `ga`, how much of the flow a->b to keep (0..1): none where the two frames already agree
    without motion and the flow explains them no better. A head that moves drags DIS's smooth flow out over
    a still, plain background, and warping that background bends its straight lines (the panel seams behind
    d12's head, docs/seamless-loops.md, "The still background"); a still background needs no warp at all.
    Where the frames differ (the face that moved, a mouth that opened) the flow is kept whole."""
    h, w = ga.shape
    gx, gy = _grid(h, w)
    along = cv2.remap(gb, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    a, b, moved = ga.astype(np.float32), gb.astype(np.float32), along.astype(np.float32)
    still_error = cv2.GaussianBlur(np.abs(a - b), (0, 0), 1.5)
    flow_error = cv2.GaussianBlur(np.abs(a - moved), (0, 0), 1.5)
    low, high = STILL_MATCH
    agree = np.clip((high - still_error) / (high - low), 0.0, 1.0)
    still = cv2.GaussianBlur(agree * (still_error <= flow_error + STILL_MARGIN), (0, 0), 2.0)
    return 1.0 - still


class _PairCache:
    """The last flows (or per-pair match costs) computed, keyed by the two frames' content. Planning measures a
    morph window and its neighbours: a window one frame later pairs the same tail and head frames, shifted by
    one, so more than half of its flows were computed already (d18: 48 distinct pairs in 110 flows)."""

    SIZE = 96  # ~0.2 MB a flow at FLOW_WIDTH

    def __init__(self):
        self._flows: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(a: np.ndarray, b: np.ndarray) -> tuple:
        digest = lambda x: hashlib.blake2b(np.ascontiguousarray(x).data, digest_size=16).digest()  # noqa: E731
        return a.shape, digest(a), digest(b)

    def get(self, a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
        key = self._key(a, b)
        with self._lock:
            flow = self._flows.get(key)
            if flow is not None:
                self._flows.move_to_end(key)
            return flow

    def put(self, a: np.ndarray, b: np.ndarray, flow: np.ndarray) -> np.ndarray:
        flow.flags.writeable = False  # shared: callers scale copies of it (_sized)
        key = self._key(a, b)
        with self._lock:
            self._flows[key] = flow
            while len(self._flows) > self.SIZE:
                self._flows.popitem(last=False)
        return flow


_flow_cache = _PairCache()
_match_cache = _PairCache()  # inbetween_flow's per-pair match costs (_match)


@lru_cache(maxsize=8)
def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (x, y) of an h x w frame: made once per size (every warp of a frame needs them)."""
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    gx.flags.writeable = gy.flags.writeable = False
    return gx, gy


def _warp(img: np.ndarray, flow: np.ndarray, amount: float) -> np.ndarray:
    """img sampled at x - amount*flow(x): content moves `amount` of the way along the flow. Bicubic: a bilinear
    sample between pixels averages them, which took ~10% of the fine detail off every warped frame."""
    h, w = flow.shape[:2]
    gx, gy = _grid(h, w)
    mx = gx - amount * flow[..., 0]
    my = gy - amount * flow[..., 1]
    return cv2.remap(img, mx, my, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


def morph_frame(a: np.ndarray, b: np.ndarray, t: float, g: float | None = None) -> np.ndarray:
    """The in-between of a (t=0) and b (t=1): both moved to the geometry g (default t), blended at weight t."""
    if t <= 0.0:
        return a.copy()
    if t >= 1.0:
        return b.copy()
    g = t if g is None else min(1.0, max(0.0, g))
    h, w = a.shape[:2]
    return _blend_moved(a, b, _sized(inbetween_flow(*_flow_frames(_gray(a), _gray(b)), g), w, h), t, g)


def _blend_moved(a: np.ndarray, b: np.ndarray, u: np.ndarray, t: float, g: float, grain: bool = True) -> np.ndarray:
    """a sampled back along the in-between flow u (g of the way), b forward along it (the rest), blended at
    b's weight t; with `grain`, the grain kept where the two agree (`keep_grain`)."""
    wa = _warp(a, u, g).astype(np.float32)
    wb = _warp(b, u, g - 1.0).astype(np.float32)
    mixed = keep_grain(wa, wb, t) if grain else wa * (1.0 - t) + wb * t
    return np.clip(mixed + 0.5, 0, 255).astype(np.uint8)


# GRAIN_SIGMA: finer than this is grain; AGREE_SIGMA: the scale at which the two ends must agree for their
# fine detail to be swapped (grain.py, which also tells the planner when a plain crossfade would thin it)
AGREE_LEVELS = (2.0, 6.0)  # gray levels of that coarse difference: fully agree below, not at all above
GRAIN_EDGE = 0.1  # blend weights this near an end keep the plain mix


def keep_grain(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """(1 - t) * a + t * b (float32 frames, already aligned), except that where the two agree at the coarse
    scale, the fine detail is a's, then b's, not their mix.

    Blending two frames of independent grain halves its variance at t = 0.5: a still, grainy avatar turned
    smooth for the length of every transition, a softening once a cycle (fine detail 0.79-0.84x of the
    file's median over ~10 frames on d18; docs/seamless-loops.md, "Grain through the transition"). Grain
    differs from frame to frame in the source too, so handing it over from one end to the other (a's up to
    t = 0.5, then b's) looks like the source; the detail both ends share is the same either way. Only where the ends agree: where they differ (a moved face the
    flow did not align) the plain blend stays, so that a double image stays as visible, and as measured, as
    it is."""
    plain = a * (1.0 - t) + b * t
    if t <= GRAIN_EDGE or t >= 1.0 - GRAIN_EDGE:
        return plain  # near either end the mix is mostly one frame already
    # With d = a - b and fine(x) = x - blur(x): a's fine detail instead of the mix adds t * fine(d), b's
    # subtracts (1 - t) * fine(d); and the ends agree where blur(d) is small. Two blurs in all.
    d = a - b
    coarse = cv2.GaussianBlur(d, (0, 0), GRAIN_SIGMA)
    low, high = AGREE_LEVELS
    agree = _smooth(np.abs(coarse), AGREE_SIGMA)
    agree = np.clip((high - agree) / (high - low), 0.0, 1.0)
    swap = t if t < 0.5 else t - 1.0
    return plain + agree * (swap * (d - coarse))


def _smooth(img: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur of a smooth float image; over 320 px wide, computed at a quarter of the size and
    scaled back (it varies slowly: the same mask at a sixteenth of the cost at 1080p)."""
    h, w = img.shape[:2]
    if w <= 320:
        return cv2.GaussianBlur(img, (0, 0), sigma)
    small = cv2.resize(img, (w // 4, h // 4), interpolation=cv2.INTER_AREA)
    return cv2.resize(cv2.GaussianBlur(small, (0, 0), sigma / 4), (w, h), interpolation=cv2.INTER_LINEAR)


def _i420_planes(frame: np.ndarray, w: int, h: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of the Y, U and V planes of a planar I420 frame of even size w x h."""
    flat, cw, ch = frame.reshape(-1), w // 2, h // 2
    return (flat[:w * h].reshape(h, w), flat[w * h:w * h + cw * ch].reshape(ch, cw),
            flat[w * h + cw * ch:].reshape(ch, cw))


def morph_frame_i420(a: np.ndarray, b: np.ndarray, t: float, g: float, width: int, height: int) -> np.ndarray:
    """morph_frame on planar I420 frames (media.iter_frames(yuv420=True)): the flow of the Y planes moves Y
    and, at half size, U and V. The encode's own pixel format, so the transition frames are made from the very
    samples the body shows: no RGB round trip that would set them apart (a pulse at the wrap of a still face)."""
    if t <= 0.0 or t >= 1.0:
        return (a if t <= 0.0 else b).copy()
    w, h, cw, ch = width, height, width // 2, height // 2
    pa, pb = _i420_planes(a, w, h), _i420_planes(b, w, h)
    u = inbetween_flow(*_flow_frames(pa[0], pb[0]), g)
    out = [_blend_moved(pa[0], pb[0], _sized(u, w, h), t, g)]
    # the grain that shows is the luma's: the chroma planes blend plainly (a third of the cost)
    half = _sized(u, cw, ch)
    out += [_blend_moved(x, y, half, t, g, grain=False) for x, y in zip(pa[1:], pb[1:])]
    return np.concatenate([plane.reshape(-1) for plane in out]).reshape(a.shape)


def _step_size(a: np.ndarray, b: np.ndarray) -> float:
    ga, gb = _gray(a), _gray(b)
    h, w = ga.shape
    size = (min(STEP_WIDTH, w), max(1, int(round(h * min(STEP_WIDTH, w) / w))))
    sa = cv2.resize(ga, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    sb = cv2.resize(gb, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    return float(np.abs(sa - sb).mean())


def slide_schedule(before: np.ndarray | None, tails: list[np.ndarray], heads: list[np.ndarray]) -> list[float]:
    """Geometry of each transition frame, 0 = the tail's place, 1 = the head's (the last frame).

    A uniform slide (j + 1) / K keeps moving while the source holds still (a repeated frame) and pushes
    against the source's own small back-and-forth, which shows as a reversal the source does not make
    (d12: docs/seamless-loops.md, "Pacing the slide"). Here each step gets a share of the slide in proportion
    to the source's own step there (the tail's and the head's, weighted as the frame blends them), plus a
    floor, capped at SLIDE_CAP uniform shares: the correction moves with the motion, at most a few times the
    uniform pace. `before` is the body frame just before the first tail (None: the tail's own next step)."""
    k = len(tails)
    steps = []
    for j in range(k):
        t = (j + 1) / k
        prev_tail = tails[j - 1] if j else before
        tail = _step_size(prev_tail, tails[j]) if prev_tail is not None else None
        head = _step_size(heads[j - 1], heads[j]) if j else None
        if tail is None or head is None:
            steps.append(tail if head is None else head)
        else:
            steps.append((1.0 - t) * tail + t * head)
    known = [m for m in steps if m is not None]
    m = np.array([v if v is not None else (float(np.mean(known)) if known else 1.0) for v in steps])
    share = m + SLIDE_FLOOR * float(m.mean()) + 1e-9
    share = share / share.sum()
    cap = SLIDE_CAP / k
    for _ in range(k):  # clamp the largest shares and give the excess to the rest, in proportion
        over = share > cap + 1e-12
        if not over.any() or over.all():
            break
        excess = float((share[over] - cap).sum())
        share[over] = cap
        share[~over] += excess * share[~over] / share[~over].sum()
    g = np.cumsum(share)
    g[-1] = 1.0
    return [float(v) for v in g]


def transition(tails: list[np.ndarray], heads: list[np.ndarray], before: np.ndarray | None = None) -> list[np.ndarray]:
    """The K transition frames: tail j morphs into head j with the head's weight (j + 1) / K, at the geometry
    `slide_schedule` paces by the source's own motion."""
    k = len(tails)
    geometry = slide_schedule(before, tails, heads)
    return map_flows(lambda j: morph_frame(tails[j], heads[j], (j + 1) / k, g=geometry[j]), range(k))


def assemble_morph(plan: LoopPlan, frames: np.ndarray, offset: int = 0) -> np.ndarray:
    """The loop's frames (frames[i] is source frame offset + i), morphing over the last K frames."""
    n, k = plan.span, plan.crossfade_frames
    body = [frames[plan.first + t - offset] for t in range(n - k)]
    tails = [frames[plan.first + t - offset] for t in range(n - k, n)]
    heads = [frames[plan.first - k + j - offset] for j in range(k)]
    return np.stack(body + transition(tails, heads, body[-1] if body else None))


def transition_frames(source: Path | str, info: media.VideoInfo, plan: LoopPlan,
                      cancel: CancelToken | None = None) -> Iterator[np.ndarray]:
    """The K full-resolution transition frames of a morph loop, in output order, as planar I420 of the frame
    cropped to even size (`even_size`), the export's input format (the export takes the body straight from the
    source). One decode sends only the frames they are made of: the K head frames, the last body frame (it
    paces the slide) and the K tail frames."""
    n, k = plan.span, plan.crossfade_frames
    first, last = plan.first, plan.last
    before = n > k  # the body's last frame, source frame last - k, exists
    ranges = ((first - k, first - 1), (last - k + (0 if before else 1), last))
    width, height = even_size(info)
    frames = list(media.iter_frames(source, info, only=ranges, yuv420=True, crop_even=True, cancel=cancel))
    if len(frames) != 2 * k + before:
        raise InputError(f"{Path(source).name} ended early: the morph loop reads source frames {first - k}-{last} "
                         f"but only {len(frames)} of the {2 * k + before} it needs could be decoded")
    heads, tails = frames[:k], frames[k + before:]
    lumas = lambda fs: [_i420_planes(f, width, height)[0] for f in fs]  # noqa: E731
    # assemble_morph's own pacing, from the luma the prediction sees
    geometry = slide_schedule(lumas([frames[k]])[0] if before else None, lumas(tails), lumas(heads))

    def make(j: int) -> np.ndarray:
        if cancel is not None:
            cancel.raise_if_cancelled()
        return morph_frame_i420(tails[j], heads[j], (j + 1) / k, geometry[j], width, height)

    # All K at once on the flow threads: the encode takes them only after the body, and waits for them there.
    yield from map_flows(make, range(k))


def even_size(info: media.VideoInfo) -> tuple[int, int]:
    """The frame size the morph's transition frames are made at: I420 needs even sizes (a column or a row
    less, as the encode's own crop to even size)."""
    return info.width - info.width % 2, info.height - info.height % 2
