"""The `morph` seam: transition frames that warp both ends toward each other along dense optical flow.

A crossfade blends two head positions and shows a double head when the face moved between them. Here each
transition frame j blends the tail frame A (fading out) with the head frame B (fading in) after moving both
to the in-between geometry: with F the flow A->B and G the flow B->A, at B's weight t
    A' = A warped by t*F,  B' = B warped by (1-t)*G,  frame = (1-t)*A' + t*B'
so a moved head slides into place (docs/seamless-loops.md). Flow is OpenCV's DIS, computed on gray frames
at most FLOW_WIDTH wide and scaled up, which keeps the full-resolution export cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from . import media
from .cancel import CancelToken
from .errors import InputError
from .loop_plan import LoopPlan

FLOW_WIDTH = 480  # flow is smooth: computing it wider costs time and finds nothing a face needs


def _gray(img: np.ndarray) -> np.ndarray:
    return img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)


def dense_flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Flow (h, w, 2) in a's pixels such that a(x) ~ b(x + flow(x)); RGB or gray uint8 inputs."""
    ga, gb = _gray(a), _gray(b)
    h, w = ga.shape
    scale = min(1.0, FLOW_WIDTH / w)
    if scale < 1.0:
        size = (int(round(w * scale)), int(round(h * scale)))
        ga, gb = cv2.resize(ga, size, interpolation=cv2.INTER_AREA), cv2.resize(gb, size, interpolation=cv2.INTER_AREA)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    flow = dis.calc(ga, gb, None)
    if scale < 1.0:
        flow = cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR) / scale
    return flow


def _warp(img: np.ndarray, flow: np.ndarray, amount: float) -> np.ndarray:
    """img sampled at x - amount*flow(x): content moves `amount` of the way along the flow."""
    h, w = flow.shape[:2]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    mx = gx - amount * flow[..., 0]
    my = gy - amount * flow[..., 1]
    return cv2.remap(img, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def morph_frame(a: np.ndarray, b: np.ndarray, t: float, flow_ab: np.ndarray | None = None,
                flow_ba: np.ndarray | None = None) -> np.ndarray:
    """The in-between of a (t=0) and b (t=1), both moved to the geometry at t before blending."""
    if t <= 0.0:
        return a.copy()
    if t >= 1.0:
        return b.copy()
    flow_ab = dense_flow(a, b) if flow_ab is None else flow_ab
    flow_ba = dense_flow(b, a) if flow_ba is None else flow_ba
    wa = _warp(a, flow_ab, t).astype(np.float32)
    wb = _warp(b, flow_ba, 1.0 - t).astype(np.float32)
    return np.clip(wa * (1.0 - t) + wb * t + 0.5, 0, 255).astype(np.uint8)


def transition(tails: list[np.ndarray], heads: list[np.ndarray]) -> list[np.ndarray]:
    """The K transition frames: tail j morphs into head j with the head's weight (j + 1) / K."""
    k = len(tails)
    return [morph_frame(a, b, (j + 1) / k) for j, (a, b) in enumerate(zip(tails, heads))]


def assemble_morph(plan: LoopPlan, frames: np.ndarray, offset: int = 0) -> np.ndarray:
    """The loop's frames (frames[i] is source frame offset + i), morphing over the last K frames."""
    n, k = plan.span, plan.crossfade_frames
    body = [frames[plan.first + t - offset] for t in range(n - k)]
    tails = [frames[plan.first + t - offset] for t in range(n - k, n)]
    heads = [frames[plan.first - k + j - offset] for j in range(k)]
    return np.stack(body + transition(tails, heads))


def render_frames(source: Path | str, info: media.VideoInfo, plan: LoopPlan,
                  cancel: CancelToken | None = None) -> Iterator[np.ndarray]:
    """Full-resolution RGB frames of a morph loop, in output order, decoded and morphed as they are needed.

    Only the K head frames are held back (they are read first but shown last); the body streams through.
    """
    n, k = plan.span, plan.crossfade_frames
    lo, _ = plan.source_range
    heads, tails, decoded = [], [], 0
    for frame in media.iter_frames(source, info, start_frame=lo, end_frame=plan.last + 1, cancel=cancel):
        decoded += 1
        if len(heads) < k:
            heads.append(frame)
        elif decoded - k <= n - k:
            yield frame
        else:
            tails.append(frame)
    if len(tails) != k:
        raise InputError(f"{Path(source).name} ended early: the morph loop reads source frames {lo}-{plan.last} "
                         f"but only {decoded} of them could be decoded")
    for j, (a, b) in enumerate(zip(tails, heads)):
        if cancel is not None:
            cancel.raise_if_cancelled()
        yield morph_frame(a, b, (j + 1) / k)
