"""Measures of a talking mouth read back from video frames by Face Mesh, and of an idle loop's own mouth.

Why from the frames: the renderer's own numbers say what it meant to draw; Face Mesh on the output
says what a viewer sees. Used by tests, bench/bench_mouth.py and the "this idle clip talks" warning.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .source_mouth import SourceMouth, source_mouth  # noqa: F401  (re-exported for callers of measure)
from .geometry import INNER_LOWER, INNER_UPPER, OUTER_LOWER, OUTER_UPPER

NOSE_BASE = 2
CHIN = 152
CLOSED_GAP = 0.06  # inner gap / mouth width below which the lips read as shut (about 2 px on a small face)
EYES = (33, 263)  # outer eye corners: the face's scale


@dataclass(frozen=True)
class MouthTrack:
    """Per-frame readings of a video's mouth (from its Face Mesh landmarks and pixels)."""

    gap: np.ndarray  # inner-lip gap / mouth width (the usual mouth-opening ratio)
    opening: np.ndarray  # inner-lip gap / eye distance (a scale that rounding the lips does not change)
    chin: np.ndarray  # nose base -> chin distance along the face's down axis / eye distance
    lip_lab: np.ndarray  # (n, 3) mean CIELAB colour of the lip ring (between outer and inner contours)


def read_mouth(frames, points: np.ndarray) -> MouthTrack:
    """`frames`: iterable of RGB frames; `points`: (n, 478, 2) Face Mesh landmarks of the same frames."""
    gaps, opens, chins, labs = [], [], [], []
    for frame, p in zip(frames, points):
        if not np.all(np.isfinite(p[[13, 14, 61, 291, NOSE_BASE, CHIN, *EYES]])):
            gaps.append(np.nan), opens.append(np.nan), chins.append(np.nan), labs.append((np.nan,) * 3)
            continue
        width = float(np.linalg.norm(p[291] - p[61]))
        axis = p[EYES[1]] - p[EYES[0]]
        eyes = float(np.hypot(*axis))
        down = np.array([-axis[1], axis[0]]) / eyes
        inner = float(np.linalg.norm(p[13] - p[14]))
        gaps.append(inner / width)
        opens.append(inner / eyes)
        chins.append(float((p[CHIN] - p[NOSE_BASE]) @ down) / eyes)
        labs.append(_lip_lab(frame, p))
    return MouthTrack(np.array(gaps), np.array(opens), np.array(chins), np.array(labs, np.float64))


def _lip_lab(frame: np.ndarray, p: np.ndarray) -> tuple[float, float, float]:
    outer = np.round(np.concatenate([p[list(OUTER_UPPER)], p[list(OUTER_LOWER[-2:0:-1])]])).astype(np.int32)
    inner = np.round(np.concatenate([p[list(INNER_UPPER)], p[list(INNER_LOWER[-2:0:-1])]])).astype(np.int32)
    x0, y0 = np.maximum(outer.min(axis=0) - 2, 0)
    x1, y1 = outer.max(axis=0) + 3
    sub = frame[y0:y1, x0:x1]
    mask = np.zeros(sub.shape[:2], np.uint8)
    cv2.fillPoly(mask, [outer - (x0, y0)], 1)
    cv2.fillPoly(mask, [inner - (x0, y0)], 0)
    mask = cv2.erode(mask, np.ones((3, 3), np.uint8))
    if not mask.any():
        return (np.nan,) * 3
    lab = cv2.cvtColor(np.ascontiguousarray(sub), cv2.COLOR_RGB2LAB).astype(np.float64)
    lab = lab[mask.astype(bool)]
    # OpenCV's 8-bit Lab: L scaled by 255/100, a and b offset by 128.
    return float(lab[:, 0].mean() * 100.0 / 255.0), float(lab[:, 1].mean() - 128.0), float(lab[:, 2].mean() - 128.0)


def change_from_source(out: MouthTrack, source: MouthTrack) -> MouthTrack:
    """What the renderer added: each output frame minus the loop frame it was drawn on (frame i of the
    output is loop frame i mod n). Removes the source's own head and mouth motion from the readings."""
    idx = np.arange(len(out.gap)) % len(source.gap)
    return MouthTrack(out.gap - source.gap[idx], out.opening - source.opening[idx], out.chin - source.chin[idx],
                      out.lip_lab)


def chin_follows_gap(track: MouthTrack) -> tuple[float, float]:
    """(correlation of chin drop with lip gap, chin travel / gap travel between their 5th-95th percentiles).

    Pass change_from_source(...) for a loop whose own head or mouth moves."""
    ok = np.isfinite(track.opening) & np.isfinite(track.chin)
    gap, chin = track.opening[ok], track.chin[ok]
    corr = float(np.corrcoef(gap, chin)[0, 1])
    travel = float(np.subtract(*np.percentile(chin, [95, 5])) / max(np.subtract(*np.percentile(gap, [95, 5])), 1e-6))
    return corr, travel


def lip_colour_change(track: MouthTrack, share: float = 0.2) -> float:
    """Median CIELAB ΔE (1976) of the lip ring in the most open frames against the most closed ones."""
    ok = np.isfinite(track.gap) & np.all(np.isfinite(track.lip_lab), axis=1)
    gap, lab = track.gap[ok], track.lip_lab[ok]
    order = np.argsort(gap)
    k = max(1, int(len(gap) * share))
    idle = np.median(lab[order[:k]], axis=0)
    return float(np.median(np.linalg.norm(lab[order[-k:]] - idle, axis=1)))


def read_video_mouth(path) -> MouthTrack:
    """Face Mesh run afresh on every frame of a rendered video, each frame on its own (static mode: no
    tracking across frames, so a frame is read as a viewer sees it, not smoothed by its neighbours)."""
    from ..landmarks import _process, create_face_mesh
    from ..media import iter_frames, probe

    info = probe(path)
    frames, points = [], []
    mesh = create_face_mesh(static=True)
    try:
        for frame in iter_frames(path, info):
            pts = _process(mesh, frame, info.width, info.height, quiet=True)
            frames.append(frame)
            points.append(np.full((478, 2), np.nan, np.float32) if pts is None else pts)
    finally:
        mesh.close()
    return read_mouth(frames, np.array(points))


def commanded_openings(utterance, n_frames: int, fps: float, source_gap: np.ndarray) -> np.ndarray:
    """The inner gap (mouth widths) the pose asks for at each output frame's display time (as talk_render
    samples it). A rest pose leaves the loop frame as it is, so it asks for the source's own gap
    (`source_gap`: per loop frame, e.g. read_mouth(...).gap of the loop)."""
    from .pose import GAP_FULL, ROUND_OPEN

    out = np.zeros(n_frames)
    for i in range(n_frames):
        p = utterance.mouth_params_at((i + 0.5) / fps)
        if p.is_rest:
            out[i] = source_gap[i % len(source_gap)]
        else:
            out[i] = max(0.0, (GAP_FULL * max(p.jaw_open, 0.0) + ROUND_OPEN * max(p.lip_round, 0.0))
                         * (1 - p.closed))
    return out


@dataclass(frozen=True)
class TalkReport:
    """A rendered talking clip judged from its own frames (see talk_report)."""

    chin_corr: float  # chin drop vs lip opening (both what the renderer added to the loop frame)
    chin_travel: float  # chin travel / opening travel
    lip_delta_e: float  # median ΔE of the lip ring, open vs idle frames
    command_corr: float  # Face Mesh's inner gap vs the commanded gap
    closure_offsets_ms: np.ndarray  # per p/b/m closure silence: distance of the measured closure from it
    render_seconds: float
    audio_seconds: float


def talk_report(loop_path, utterance, out_path) -> TalkReport:
    """Render `utterance` on the loop (talk_render), read the output back with Face Mesh, and measure."""
    from ..landmarks import load_or_compute_landmarks
    from ..media import read_frames
    from ..talk_render import render_talk_video

    result = render_talk_video(loop_path, utterance, out_path)
    out = read_video_mouth(out_path)
    loop_track = load_or_compute_landmarks(loop_path)
    source = read_mouth(read_frames(loop_path), loop_track.points)
    corr, travel = chin_follows_gap(change_from_source(out, source))
    commanded = commanded_openings(utterance, len(out.gap), result.fps, source.gap)
    ok = np.isfinite(out.gap)
    command_corr = float(np.corrcoef(commanded[ok], out.gap[ok])[0, 1])
    return TalkReport(corr, travel, lip_colour_change(out), command_corr,
                      closure_offsets(utterance, out.gap, result.fps), result.render_seconds, utterance.duration)


def closure_offsets(utterance, gap: np.ndarray, fps: float, window: float = 0.08) -> np.ndarray:
    """For each short silence inside a p/b/m (the lips' closure in the audio): how far, in ms, the measured
    closure (the least open frames within `window` of it, over the time they are on screen) lies from the
    silence; 0 when they overlap, inf when the lips never get within CLOSED_GAP of shut there."""
    from ..speech.audio import find_silences

    times = (np.arange(len(gap)) + 0.5) / fps  # a frame is on screen around the middle of its interval
    offsets = []
    for s in find_silences(utterance.audio, utterance.sample_rate, min_length=0.03):
        centre = (s.start + s.end) / 2.0
        if s.end - s.start > 0.2 or s.start < 0.05 or s.end > utterance.duration - 0.05:
            continue  # pauses between phrases, not stop closures
        if utterance.mouth_params_at(centre).weights.get("pbm", 0.0) < 0.3:
            continue  # a quiet stretch that is not a p/b/m
        near = np.nonzero(np.abs(times - centre) <= window)[0]
        near = near[np.isfinite(gap[near])]
        if len(near) < 3:
            continue
        low = float(gap[near].min())
        shut = near[gap[near] <= low + 0.01]  # the most closed moment(s)
        if low > CLOSED_GAP:
            offsets.append(np.inf)  # the lips never shut around this closure
            continue
        a, b = shut.min() / fps, (shut.max() + 1) / fps  # when the shut frames are on screen
        offsets.append(1000.0 * max(0.0, a - s.end, s.start - b))
    return np.array(offsets)


def quiet_loop(source_path, out_path, seconds: float = 2.0):
    """Cut the quietest `seconds` of a clip (source_mouth's window) to `out_path`: what the talking-source
    warning suggests, and the fixture loops the tests and bench speak on."""
    from .. import ffmpeg
    from ..landmarks import load_or_compute_landmarks

    track = load_or_compute_landmarks(source_path)
    quiet = source_mouth(track.points, track.fps, seconds)
    start = quiet.quiet_start / track.fps
    ffmpeg.run(["-loglevel", "error", "-y", "-ss", f"{start:.3f}", "-i", str(source_path), "-t", f"{seconds:.3f}",
                "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "16", "-pix_fmt", "yuv420p", str(out_path)])
    return out_path
