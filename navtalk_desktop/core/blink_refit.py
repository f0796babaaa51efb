"""Re-detect the rest of a clip with thresholds fitted to this face from the artist's corrections.

After a few corrections the accepted blinks say how deep and how long this face's blinks are; the
detector's generic rules (blinks.Thresholds) are refitted to them and run again. Only the frames the
artist has not touched change, and nothing changes until the proposal (what would appear or vanish)
is accepted: `apply_proposal` turns it into ordinary edits, so it is one undo step like any other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import blink_edits
from .blink_edits import BlinkEdits
from .blinks import MAX_BLINK_S, BlinkEvent, Thresholds, detect_blinks

MIN_CORRECTIONS = 2  # the studio offers a refit after this many corrections
MIN_ACCEPTED = 2  # and needs this many accepted blinks to fit from


def accepted_blinks(events: list[BlinkEvent]) -> list[BlinkEvent]:
    """Events the corrected set keeps as real two-eye blinks (the evidence for the fit)."""
    return [e for e in events if e.kind == "blink" and e.both_eyes and not e.exclude and not e.touches_gap]


def can_refit(analysis) -> bool:
    edits = analysis.edits
    return (edits is not None and edits.count >= MIN_CORRECTIONS
            and len(accepted_blinks(analysis.events)) >= MIN_ACCEPTED)


def fit_thresholds(events: list[BlinkEvent], fps: float) -> Thresholds:
    """Rules that accept the shallowest accepted blink with a margin and allow its duration with room."""
    accepted = accepted_blinks(events)
    if len(accepted) < MIN_ACCEPTED:
        return Thresholds()
    shallowest = min(e.depth for e in accepted)
    longest = max((e.end - e.start + 1) / fps for e in accepted)
    # prominence is measured against the lower neighbour, so it runs below the depth: fit it looser and
    # keep the depth itself as a separate rule (min_depth)
    return Thresholds(max_apex_openness=float(np.clip(1.0 - 0.75 * shallowest, 0.5, 0.9)),
                      min_prominence=float(np.clip(0.6 * shallowest, 0.1, 0.5)),
                      max_blink_s=float(np.clip(1.5 * longest, 0.3, max(1.0, MAX_BLINK_S))))


def min_depth(events: list[BlinkEvent]) -> float:
    """A found dip counts as this face's blink when at least this deep (80 % of the shallowest accepted)."""
    accepted = accepted_blinks(events)
    return 0.8 * min(e.depth for e in accepted) if accepted else 0.0


@dataclass
class Proposal:
    thresholds: Thresholds
    min_depth: float
    appear: list[dict]  # fields of events the refitted detector finds that the corrected set lacks
    vanish: list[BlinkEvent]  # untouched detected events the refitted detector no longer finds

    @property
    def empty(self) -> bool:
        return not self.appear and not self.vanish

    def describe(self, fps: float) -> list[str]:
        t = self.thresholds
        lines = [f"fitted to this face: apex below {t.max_apex_openness:.2f} of open, depth at least "
                 f"{self.min_depth:.2f}, drop at least {t.min_prominence:.2f}, blinks up to {t.max_blink_s:.2f} s"]
        lines += [f"+ new {d['kind'].replace('_', ' ')} at frame {d['apex']} ({d['apex'] / fps:.2f} s), "
                  f"frames {d['start']}-{d['end']}, depth {d['depth']:.2f}" for d in self.appear]
        lines += [f"- remove blink at frame {e.apex} ({e.apex / fps:.2f} s), depth {e.depth:.2f}"
                  for e in self.vanish]
        if self.empty:
            lines.append("nothing would change")
        return lines


def _touched_spans(analysis) -> list[tuple[int, int]]:
    """Frames the artist decided about: edited and added events, and the detected events they deleted."""
    spans = [(e.start, e.end) for e in analysis.events if e.origin != "detected"]
    edits = analysis.edits or BlinkEdits()
    for e in analysis.detected:
        if any(abs(e.apex - a) <= blink_edits.MATCH_FRAMES for a in edits.deleted):
            spans.append((e.start, e.end))
    return spans


def _near(start: int, end: int, spans: list[tuple[int, int]], pad: int) -> bool:
    return any(end >= lo - pad and start <= hi + pad for lo, hi in spans)


def propose(analysis, thresholds: Thresholds | None = None) -> Proposal:
    """What a re-detection of the untouched frames with fitted thresholds would change."""
    fps = analysis.fps
    thresholds = thresholds or fit_thresholds(analysis.events, fps)
    found, _ = detect_blinks(analysis.ear_right, analysis.ear_left, fps, thresholds)
    touched = _touched_spans(analysis)
    pad = blink_edits.MATCH_FRAMES
    current = [(e.start, e.end) for e in analysis.events]
    depth = min_depth(analysis.events)
    appear = []
    for e in found:  # blinks like the accepted ones: short, deep enough, where the artist decided nothing
        if e.kind != "blink" or e.depth < depth:
            continue
        if _near(e.start, e.end, touched, pad) or _near(e.start, e.end, current, 0):
            continue
        appear.append({"start": e.start, "apex": e.apex, "end": e.end, "depth": e.depth,
                       "kind": "one_eye" if not e.both_eyes else e.kind, "eye": e.eye, "exclude": False})
    spans = [(e.start, e.end) for e in found]
    vanish = [e for e in analysis.events if e.origin == "detected" and not e.exclude
              and (e.depth < depth or not _near(e.start, e.end, spans, 0))]
    return Proposal(thresholds, depth, appear, vanish)


def apply_proposal(edits: BlinkEdits, proposal: Proposal) -> BlinkEdits:
    for event in proposal.vanish:
        edits = blink_edits.delete(edits, event)
    for values in proposal.appear:
        edits = blink_edits.add(edits, values)
    return edits
