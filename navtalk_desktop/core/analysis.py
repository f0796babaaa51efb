"""Blink analysis of a video: landmarks -> EAR curves -> blink events, with a summary for people and JSON/CSV."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import media, strict_json
from .blinks import BlinkEvent, detect_blinks
from .cancel import CancelToken
from .ear import ear_curves
from .landmarks import LANDMARKER_VERSION, LandmarkTrack, load_or_compute_landmarks

LOW_FACE_FRACTION = 0.9  # below this, the EAR curve has holes worth a warning


@dataclass
class AnalysisResult:
    info: media.VideoInfo
    ear_right: np.ndarray
    ear_left: np.ndarray
    ear_mean: np.ndarray
    openness: np.ndarray
    events: list[BlinkEvent]
    face_fraction: float
    messages: list[str] = field(default_factory=list)
    track: LandmarkTrack | None = field(default=None, repr=False)
    detected_events: list[BlinkEvent] | None = None  # the detector's events when `events` holds corrections
    edits: object = None  # the BlinkEdits that made `events` from `detected_events` (blink_store.corrected)

    @property
    def detected(self) -> list[BlinkEvent]:
        """The events as detected, whatever corrections `events` carries."""
        return self.events if self.detected_events is None else self.detected_events

    @property
    def fps(self) -> float:
        return float(self.info.fps)

    @property
    def frame_count(self) -> int:
        return len(self.ear_mean)

    @property
    def content_hash(self) -> str:
        """SHA-256 of the analysed file, computed once per command (the landmark cache key)."""
        return self.track.content_hash if self.track is not None else ""

    def clean_events(self) -> list[BlinkEvent]:
        return [e for e in self.events if e.is_clean(self.frame_count, self.fps)]

    def why_no_clean_blink(self) -> str:
        """Why no event is a loop point, naming each closure the clip has ("" when one is clean)."""
        if self.clean_events():
            return ""
        if not self.events:
            return "the face never closes its eyes in this clip" if self.face_fraction > 0 else "no face was found"
        return "; ".join(f"the closure at frame {e.apex} ({e.apex / self.fps:.2f} s) "
                         f"{e.why_not_clean(self.frame_count, self.fps)}" for e in self.events[:4])

    def best_blink(self) -> BlinkEvent | None:
        """The clean blink with the highest confidence: the default loop point."""
        clean = self.clean_events()
        return max(clean, key=lambda e: e.confidence) if clean else None

    def to_dict(self, curves: bool = True) -> dict:
        def clean_list(values: np.ndarray) -> list:
            return [None if not math.isfinite(v) else round(float(v), 5) for v in values]

        def event_list(events: list[BlinkEvent]) -> list[dict]:
            return [e.to_dict() | {"clean": e.is_clean(self.frame_count, self.fps),
                                   "apex_time": round(e.apex / self.fps, 4)} for e in events]

        data = {
            "analyser": LANDMARKER_VERSION,
            "video": self.info.to_dict(),
            "content_hash": self.track.content_hash if self.track is not None else "",
            "face_fraction": round(self.face_fraction, 4),
            "events": event_list(self.events),  # the corrected set (each with its origin)
            "detected_events": event_list(self.detected),
            "best_blink_apex": self.best_blink().apex if self.best_blink() else None,
            "messages": self.messages,
        }
        if curves:
            data["ear"] = {
                "right": clean_list(self.ear_right),
                "left": clean_list(self.ear_left),
                "mean": clean_list(self.ear_mean),
                "openness": clean_list(self.openness),
            }
        return data

    def to_json(self) -> str:
        return strict_json.dumps(self.to_dict())

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["frame", "time_s", "ear_right", "ear_left", "ear_mean", "openness", "face", "event"])
        labels = {}
        for k, event in enumerate(self.events):
            for f in range(event.start, event.end + 1):
                labels[f] = f"{event.kind}{k}" + ("_apex" if f == event.apex else "")
        for i in range(self.frame_count):
            values = [self.ear_right[i], self.ear_left[i], self.ear_mean[i], self.openness[i]]
            writer.writerow([i, f"{i / self.fps:.4f}"] + ["" if not math.isfinite(v) else f"{v:.5f}" for v in values]
                            + [int(math.isfinite(self.ear_mean[i])), labels.get(i, "")])
        return out.getvalue()

    def summary(self, how_to_choose: str = "") -> str:
        """The analysis in a few lines; `how_to_choose` tells, in the caller's words, how to pick a loop point."""
        info = self.info
        lines = [
            f"{Path(info.path).name}: {info.width}x{info.height}, {float(info.fps):g} fps, "
            f"{info.frame_count} frames, {info.duration:.2f} s",
            f"face found in {self.face_fraction:.0%} of frames",
        ]
        if not self.events:
            lines.append("no blinks found")
        for k, e in enumerate(self.events, 1):
            flags = [name for name, on in (("clip edge", e.touches_edge), ("face gap", e.touches_gap),
                                           (f"one eye: {e.eye}", not e.both_eyes),
                                           ("never loop through", e.exclude),
                                           (e.origin, e.origin != "detected")) if on]
            why = e.why_not_clean(self.frame_count, self.fps)
            clean = f"not usable as loop point: {why}" if why else "clean"
            lines.append(
                f"  {k}. {e.kind} apex frame {e.apex} ({e.apex / self.fps:.2f} s), frames {e.start}-{e.end}, "
                f"depth {e.depth:.2f}, confidence {e.confidence:.2f}, {clean}"
                + (f" [{', '.join(flags)}]" if flags else "")
            )
        best = self.best_blink()
        lines.append(f"most confident clean blink: frame {best.apex} (export measures the seam around every "
                     f"clean blink)" if best else
                     "no clean blink: export needs a loop point" + how_to_choose)
        lines.extend(f"note: {m}" for m in self.messages)
        return "\n".join(lines)


def analyze_track(info: media.VideoInfo, track: LandmarkTrack) -> AnalysisResult:
    right, left, mean = ear_curves(track.points)
    events, openness = detect_blinks(right, left, float(info.fps))
    face = track.face_present
    face_fraction = float(face.mean()) if len(face) else 0.0
    messages = [info.vfr_note()] if info.vfr else []
    if face_fraction == 0.0:
        messages.append("no face was found in any frame; blinks cannot be detected")
    elif face_fraction < LOW_FACE_FRACTION:
        messages.append(f"the face is missing in {1 - face_fraction:.0%} of frames; blinks there cannot be seen")
    if face_fraction > 0 and not events:
        messages.append("the face never blinks in this clip")
    elif events and not any(e.is_clean(len(mean), float(info.fps)) for e in events):
        messages.append("no blink is clean enough for a loop point (all are partial, truncated or one-eyed)")
    return AnalysisResult(info=info, ear_right=right, ear_left=left, ear_mean=mean, openness=openness,
                          events=events, face_fraction=face_fraction, messages=messages, track=track)


def analyze_video(
    path: Path | str,
    on_progress: Callable[[float], None] | None = None,
    cancel: CancelToken | None = None,
    use_cache: bool = True,
    info: media.VideoInfo | None = None,
    content_hash: str | None = None,
    keep_small_frames: bool = False,
) -> AnalysisResult:
    """Analyse a video's blinks; landmarks are cached, so a second call on the same file is near-instant.

    `info` and `content_hash`, when the caller has them, spare a second probe and hash of the file; the
    result carries both on (`result.info`, `result.content_hash`) to planning, export and the sidecar.
    `keep_small_frames`: the result keeps the gray frames planning measures on (`result.track.small_frames`,
    seam.METRIC_WIDTH wide) from its own decode or the cache, when there are any; see kept_frames.small_frames.
    """
    track = load_or_compute_landmarks(path, info, on_progress=on_progress, cancel=cancel, use_cache=use_cache,
                                      content_hash=content_hash, keep_small_frames=keep_small_frames)
    return analyze_track(track.info, track)
