"""The inside of an opened mouth, drawn where neither lip's pixels land (the cavity).

Layers, back to front: a dark cavity (darkest at the back, lip-red near the lips, in shadow at the
corners), the tongue and lower teeth (attached to the jaw: drawn in the jaw's source coordinates),
the upper teeth (fixed to the skull: drawn in frame coordinates, so a lifted upper lip reveals more of
them). Colours come from the face itself (its lips and skin), so the inside matches the lighting.
Every edge is a smoothstep about a pixel wide: anti-aliased, no hard outline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TEETH_EDGE = 0.045  # upper incisal edge below the source's parting line (mouth widths)
TEETH_HALF = 0.74  # visible tooth row half width, share of the inner mouth half width
TEETH_TINT = np.array([0.98, 0.93, 0.84], np.float32)
LOWER_TEETH = 0.035
INCISORS = (0.0, 0.16, 0.29, 0.40)  # tooth boundaries, |x| in mouth widths
DEEP = 0.26  # cavity colour at the back, share of the lip colour
EDGE = 0.7  # cavity colour at the lips' inner edge, share of the lip colour


@dataclass(frozen=True)
class Palette:
    lip: np.ndarray  # (3,) RGB float
    skin: np.ndarray
    teeth: np.ndarray


def palette_of(frame: np.ndarray, lip_mask: np.ndarray, skin_mask: np.ndarray) -> Palette:
    lip = frame[lip_mask].reshape(-1, 3).astype(np.float32)
    skin = frame[skin_mask].reshape(-1, 3).astype(np.float32)
    lip_c = np.median(lip, axis=0) if len(lip) else np.array([150.0, 80.0, 80.0], np.float32)
    skin_c = np.median(skin, axis=0) if len(skin) else np.array([200.0, 160.0, 140.0], np.float32)
    lum = float(skin_c @ np.array([0.299, 0.587, 0.114]))
    teeth = TEETH_TINT * np.clip(lum * 1.4, 150.0, 240.0) * 0.85 + 0.15 * skin_c
    return Palette(lip_c.astype(np.float32), skin_c.astype(np.float32), teeth.astype(np.float32))


def teeth_mask(frame: np.ndarray, opening: np.ndarray, palette: Palette) -> np.ndarray:
    """0..1 per pixel: the source's own teeth (bright, pale pixels inside its open lips)."""
    out = np.zeros(opening.shape, np.float32)
    ys, xs = np.nonzero(opening)
    if len(ys) == 0:
        return out
    box = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))  # only inside the open lips
    f = frame[box].astype(np.float32)
    lum = f[..., 0] * np.float32(0.299) + f[..., 1] * np.float32(0.587) + f[..., 2] * np.float32(0.114)
    sat = f.max(axis=2) - f.min(axis=2)
    skin_lum = float(palette.skin @ np.array([0.299, 0.587, 0.114]))
    bright = _ss((lum - 0.72 * skin_lum) / (0.25 * skin_lum))
    pale = _ss((0.55 * lum - sat) / (0.2 * lum.clip(1)))
    out[box] = bright * pale * (opening[box].astype(np.float32) / 255.0)
    return out


def _ss(t):
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def draw(out: np.ndarray, cavity: np.ndarray, frame_uv: tuple, jaw_uv: tuple, face, tg, params,
         palette: Palette, px: float, own: tuple | None = None) -> None:
    """Composite the inside into `out` (float32, (h, w, 3)) where `cavity` (0..1) is set.

    frame_uv: local (u, v) of each pixel (skull-fixed); jaw_uv: local source coords under the jaw map.
    tg: the pose's LipTargets; px: one pixel in mouth widths (edge softness). own: (source pixels,
    source-teeth mask) of the same box: the upper teeth are fixed to the skull, so where the source
    shows its own teeth they are used as they are, at the same place.
    """
    u, v = frame_uv
    ju, jv = jaw_uv
    half_i = max(float(np.abs(face.inner_upper[:, 0]).max()), 0.2)
    gap = max(tg.gap, 1e-3)
    up_dst = np.interp(u, *_xy(tg.inner_upper))
    low_dst = np.interp(u, *_xy(tg.inner_lower))
    local_gap = np.maximum(low_dst - up_dst, 1e-3)
    # Cavity: depth 0 at the lips, 1 in the middle; darker towards the corners (the cheeks shade them).
    depth = _ss(np.minimum(v - up_dst, low_dst - v) / (0.5 * local_gap)) * _ss(1.3 - np.abs(u) / half_i)
    corner = _ss(np.abs(u) / half_i)
    shade = (EDGE + (DEEP - EDGE) * depth)[..., None] * (1.0 - 0.5 * corner)[..., None]
    colour = palette.lip[None, None, :] * shade
    colour[..., 0] *= 1.0 + 0.2 * (1.0 - depth)  # redder near the lips
    # Tongue (jaw): a rounded top just behind the lower lip, seen on open vowels.
    show_tongue = float(np.clip((gap - 0.07) / 0.12, 0.0, 0.9))
    if show_tongue > 0:
        il = np.interp(ju, *_xy(face.inner_lower))
        top = il - 0.3 * gap + 0.25 * (ju / (0.85 * half_i)) ** 2
        a = (_ss((jv - top) / (2.5 * px)) * show_tongue * (np.abs(ju) < 0.85 * half_i))[..., None]
        t_shade = 0.55 + 0.25 * _ss((jv - top) / 0.06)
        tongue = palette.lip[None, None, :] * np.float32(0.8) * t_shade[..., None]
        colour = colour * (1.0 - a) + tongue * a
    # Lower teeth (jaw): a short row above the lower lip, in shadow, only when well open.
    show_low = float(np.clip((gap - 0.16) / 0.15, 0.0, 0.8))
    if show_low > 0:
        il = np.interp(ju, *_xy(face.inner_lower))
        row = 0.62 * half_i
        a = (_ss((jv - (il - LOWER_TEETH)) / (1.5 * px)) * _ss((row - np.abs(ju)) / (3 * px)) * show_low)[..., None]
        colour = colour * (1.0 - a) + (palette.teeth * 0.5 + palette.lip * 0.15)[None, None, :] * a
    # Upper teeth (skull): from under the upper lip down to the incisal edge, curving up at the sides.
    row = TEETH_HALF * half_i
    edge = face.slit_at(np.clip(u, face.slit_x[0], face.slit_x[-1])) + TEETH_EDGE - 0.12 * (u / row) ** 2
    # A barely parted or shutting mouth shows a lip crease, not a line of teeth.
    a = _ss((edge - v) / (1.2 * px)) * _ss((row - np.abs(u)) / (4 * px)) * float(_ss(gap / 0.05))
    lit = 0.84 + 0.16 * _ss((v - up_dst) / 0.04)  # the upper lip shades the top of the teeth
    lit = lit * (1.0 - 0.45 * (u / row) ** 2)
    lit = lit * (1.0 - 0.10 * _ss((v - edge + 0.03) / 0.03))  # the incisal edge is a little translucent
    table_u = np.linspace(-row, row, 257)
    gaps = np.ones_like(table_u)
    for b in INCISORS:
        gaps *= 1.0 - 0.22 * np.exp(-(((np.abs(table_u) - b) / max(px, 0.004)) ** 2))
    lit = lit * np.interp(u, table_u, gaps)
    teeth = palette.teeth[None, None, :] * lit[..., None]
    if own is not None:
        k = own[1][..., None]
        teeth = teeth * (1.0 - k) + own[0].astype(np.float32) * k
    a = a[..., None]
    colour = colour * (1.0 - a) + teeth * a
    c = cavity[..., None]
    out *= 1.0 - c
    out += colour * c


def _xy(pts: np.ndarray):
    order = np.argsort(pts[:, 0])
    return pts[order, 0], pts[order, 1]
