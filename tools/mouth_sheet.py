"""Comparison sheet of the talking mouth: every viseme on the sample portrait and on one frame of each
fixture clip, the earlier renderer (a painted mouth) beside the current one (a warp of the face's own
lips and jaw). Writes docs/mouth-comparison.jpg (see docs/mouth-comparison.md).

The earlier renderer is loaded from git (`--before REV`, default: the last commit before the warp) into
a temporary package, so the sheet can be remade at any time.

Run: .venv/bin/python tools/mouth_sheet.py [--before REV] [--out docs/mouth-comparison.jpg]
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BEFORE_REV = "e813616"  # the painted mouth, before the warp
TILE = (176, 132)  # w, h of one viseme tile
COLUMNS = 11


def load_before(rev: str, folder: Path):
    """The earlier MouthRenderer and viseme_params, imported from `rev` as package `mouth_before`."""
    pkg = folder / "mouth_before"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for name in ("geometry", "params", "renderer"):
        text = subprocess.run(["git", "show", f"{rev}:navtalk_desktop/core/mouth/{name}.py"], cwd=ROOT,
                              check=True, capture_output=True, text=True).stdout
        text = text.replace("from ..speech.visemes", "from navtalk_desktop.core.speech.visemes")
        (pkg / f"{name}.py").write_text(text)
    sys.path.insert(0, str(folder))
    renderer = importlib.import_module("mouth_before.renderer")
    params = importlib.import_module("mouth_before.params")
    return renderer.MouthRenderer, params.viseme_params


def faces():
    from navtalk_desktop.core.landmarks import landmarks_of_image
    from navtalk_desktop.core.media import read_frames
    from navtalk_desktop.core.resources import sample_portrait

    out = [("sample portrait", cv2.cvtColor(cv2.imread(str(sample_portrait())), cv2.COLOR_BGR2RGB))]
    for name, index in (("liveportrait_d12.mp4", 20), ("liveportrait_d18.mp4", 10)):
        out.append((f"{name} frame {index}", np.ascontiguousarray(read_frames(ROOT / "tests" / "fixtures" / name)[index])))
    return [(label, rgb, landmarks_of_image(rgb)) for label, rgb in out]


def crop(rgb: np.ndarray, points: np.ndarray, label: str) -> np.ndarray:
    """The lower face (nose base to below the chin), scaled to a tile, with the viseme name."""
    c = points[[61, 291]].mean(axis=0)
    width = float(np.linalg.norm(points[61] - points[291]))
    x0, x1 = int(c[0] - 1.0 * width), int(c[0] + 1.0 * width)
    y0 = int(points[2][1] - 0.15 * width)
    y1 = y0 + int((x1 - x0) * TILE[1] / TILE[0])
    pad = max(0, -x0, -y0, x1 - rgb.shape[1], y1 - rgb.shape[0])
    padded = np.pad(rgb, ((pad, pad), (pad, pad), (0, 0)), mode="edge")
    tile = cv2.resize(padded[y0 + pad:y1 + pad, x0 + pad:x1 + pad], TILE, interpolation=cv2.INTER_CUBIC)
    cv2.putText(tile, label, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 0), 1, cv2.LINE_AA)
    return tile


def grid(tiles: list[np.ndarray]) -> np.ndarray:
    rows = []
    for i in range(0, len(tiles), COLUMNS):
        row = tiles[i:i + COLUMNS]
        row += [np.zeros_like(tiles[0])] * (COLUMNS - len(row))
        rows.append(np.hstack(row))
    return np.vstack(rows)


def banner(text: str, width: int) -> np.ndarray:
    bar = np.full((26, width, 3), 32, np.uint8)
    cv2.putText(bar, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (235, 235, 235), 1, cv2.LINE_AA)
    return bar


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", default=BEFORE_REV, help="git revision of the earlier renderer")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "mouth-comparison.jpg")
    args = parser.parse_args(argv)
    from navtalk_desktop.core.mouth.params import viseme_params
    from navtalk_desktop.core.mouth.renderer import MouthRenderer
    from navtalk_desktop.core.speech.visemes import VISEMES

    with tempfile.TemporaryDirectory(prefix="mouth-before-") as tmp:
        OldRenderer, old_params = load_before(args.before, Path(tmp))
        parts = []
        for label, rgb, points in faces():
            old, new = OldRenderer(points[None]), MouthRenderer(points[None])
            before = [crop(old.render(rgb, 0, old_params(v)), points, v) for v in VISEMES]
            after = [crop(new.render(rgb, 0, viseme_params(v)), points, v) for v in VISEMES]
            width = COLUMNS * TILE[0]
            parts += [banner(f"{label}: before (painted mouth, {args.before})", width), grid(before),
                      banner(f"{label}: now (warp of the face's own lips and jaw)", width), grid(after)]
    sheet = np.vstack(parts)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    print(f"wrote {args.out} ({sheet.shape[1]}x{sheet.shape[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
