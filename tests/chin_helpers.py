"""Reading the chin/neck boundary from pixels: how far, and how cleanly, a render moved it."""

from __future__ import annotations

import cv2
import numpy as np

COLUMNS = np.linspace(-0.4, 0.4, 33)  # local x across the chin (mouth widths), ~4 px apart at 1080p


def chin_profiles(img: np.ndarray, face, us: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Grey levels along the face's down axis, one row per column u, at local v = chin(u) + t."""
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    rows = []
    for u in us:
        g = face.frame.to_global(np.stack([np.full_like(t, u), face.chin_at(np.array([u]))[0] + t], axis=1))
        g = g.astype(np.float32)
        rows.append(cv2.remap(grey, g[:, :1], g[:, 1:], cv2.INTER_LINEAR)[:, 0])
    return np.array(rows)


def chin_shifts(source: np.ndarray, out: np.ndarray, face) -> tuple[np.ndarray, np.ndarray]:
    """(shift in px, normalised correlation) per column: the shift that best maps the source's profile over
    the chin/neck boundary (chin line -0.1 .. +0.25 mouth widths) onto the rendered one, and how well."""
    px = 1.0 / face.frame.width
    t = np.arange(-0.2, 0.6, px)
    window = np.arange(int(0.1 / px), int(0.45 / px))
    a_rows, b_rows = chin_profiles(source, face, COLUMNS, t), chin_profiles(out, face, COLUMNS, t)
    shifts, matches = [], []
    for s_row, r_row in zip(a_rows, b_rows):
        b = r_row[window] - r_row[window].mean()
        best = (-2.0, 0.0)
        for sh in np.arange(-2.0, 40.0, 0.25):
            a = np.interp(window - sh, np.arange(len(t)), s_row)
            a -= a.mean()
            best = max(best, (float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-6)), sh))
        matches.append(best[0])
        shifts.append(best[1])
    return np.array(shifts), np.array(matches)
