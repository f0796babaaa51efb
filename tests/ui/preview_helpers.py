"""Shared helpers of the live-preview tests (raster under offscreen, GL under Xvfb)."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtGui import QImage

from navtalk_desktop.core.speech.player import SilentPlayer

COLOUR_STEP = 5


def colour_frames(n: int = 40, height: int = 90, width: int = 160) -> np.ndarray:
    """Solid frames whose colour encodes their index (R = 5 i, G = 255 - 5 i): readable back from any pixel."""
    assert n * COLOUR_STEP < 256
    frames = np.empty((n, height, width, 3), np.uint8)
    for i in range(n):
        frames[i] = (COLOUR_STEP * i, 255 - COLOUR_STEP * i, 128)
    return frames


def index_of_colour(rgb) -> int:
    r, g, b = (int(v) for v in rgb[:3])
    index = round(r / COLOUR_STEP)
    assert abs(g - (255 - COLOUR_STEP * index)) <= 2 and abs(b - 128) <= 2, f"not a frame colour: {rgb}"
    return index


def image_array(image: QImage) -> np.ndarray:
    """A QImage as an (h, w, 3) uint8 RGB array (copied)."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w, bpl = image.height(), image.width(), image.bytesPerLine()
    data = np.frombuffer(image.constBits(), np.uint8, count=h * bpl).reshape(h, bpl)
    return data[:, :w * 3].reshape(h, w, 3).copy()


def shown_centre_colour(view) -> tuple[int, int, int]:
    """The colour at the centre of the drawn frame, read from what is on screen (framebuffer for GL)."""
    pixels = image_array(view.grab_image())
    rect = view.image_rect()
    ratio = pixels.shape[1] / max(1, view.width())
    y, x = int(rect.center().y() * ratio), int(rect.center().x() * ratio)
    return tuple(int(v) for v in pixels[y, x])


def mouth_box(view, renderer, index: int, frame_shape) -> tuple[slice, slice]:
    """Rows/columns of the grabbed view image covering the mouth region of loop frame `index`."""
    geo = renderer.geometry(index, frame_shape[:2])
    rect = view.image_rect()
    sx, sy = rect.width() / frame_shape[1], rect.height() / frame_shape[0]
    y0, y1 = int(rect.y() + geo.y0 * sy), int(np.ceil(rect.y() + (geo.y0 + geo.h) * sy))
    x0, x1 = int(rect.x() + geo.x0 * sx), int(np.ceil(rect.x() + (geo.x0 + geo.w) * sx))
    return slice(y0, y1), slice(x0, x1)


def outside(mask_shape, box: tuple[slice, slice], margin: int) -> np.ndarray:
    """True away from the (dilated) box: where nothing may change."""
    keep = np.ones(mask_shape, bool)
    ys, xs = box
    keep[max(0, ys.start - margin):ys.stop + margin, max(0, xs.start - margin):xs.stop + margin] = False
    return keep


class RecordingPlayer(SilentPlayer):
    """The silent (monotonic-clock) player, recording what the session asked of the audio output.

    Stands in for the audio device, which does not exist here: it shows which audio would be playing.
    """

    def __init__(self) -> None:
        super().__init__("test: no audio device")
        self.events: list[tuple] = []
        self.playing: np.ndarray | None = None

    def play(self, audio, sample_rate, open_ended: bool = False) -> None:
        self.events.append(("play", len(audio)))
        self.playing = audio
        super().play(audio, sample_rate, open_ended)

    def extend(self, audio, sample_rate, final: bool = False) -> None:
        self.events.append(("extend", len(audio), final))
        self.playing = audio

    def stop(self) -> None:
        self.events.append(("stop",))
        self.playing = None
        super().stop()


def wait_until(qtbot, condition, timeout_s: float = 10.0) -> None:
    qtbot.waitUntil(lambda: bool(condition()), timeout=int(timeout_s * 1000))


def pump(qtbot, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        qtbot.wait(10)


def mouth_change_while_speaking(qtbot, panel, text: str, frame_index: int = 10, watch_s: float = 1.5):
    """Pause on a frame, speak, and measure the shown image against the silent one.

    Returns (largest 90th-percentile change inside the mouth box, largest change outside the dilated
    box, largest change anywhere after Stop). The box is the whole region the mouth may change (lips,
    jaw and chin), so a percentile, not the mean, says whether the mouth moved.
    """
    player = panel.player
    player.pause()
    player.seek(frame_index)
    qtbot.wait(50)
    before = image_array(panel.view.grab_image()).astype(np.int16)
    box = mouth_box(panel.view, panel.loop.renderer, frame_index, panel.loop.frames.shape[1:])
    keep = outside(before.shape[:2], box, margin=3)
    assert panel.speak(text)
    wait_until(qtbot, lambda: player.speaking, 15)
    inside_change, outside_change = 0.0, 0
    end = time.monotonic() + watch_s
    while time.monotonic() < end and player.speaking:
        diff = np.abs(image_array(panel.view.grab_image()).astype(np.int16) - before)
        inside_change = max(inside_change, float(np.percentile(diff[box], 90)))
        outside_change = max(outside_change, int(diff[keep].max()))
        qtbot.wait(40)
    panel.stop()
    qtbot.wait(60)
    after = np.abs(image_array(panel.view.grab_image()).astype(np.int16) - before)
    return inside_change, outside_change, int(after.max())
