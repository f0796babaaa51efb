"""The artist's corrections of detected blinks: a small edit model applied on top of the detector's output.

Edits never replace the detection; they are kept apart (`BlinkEdits`: deleted detected events, changed
fields of detected events, added events) and `apply(detected, edits)` gives the corrected set every front
end uses. Detected events are named by their detected apex ("d93"), so the same edits fit a re-analysis
that finds them a frame or two apart. Added events are named by position ("a0"). See docs/blink-editing.md.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .blinks import MAX_BLINK_S, BlinkEvent, closed_eye
from .errors import InputError

KINDS = ("blink", "long_closure", "half_blink", "one_eye")
EYES = ("both", "right", "left")
EDITABLE = ("start", "apex", "end", "depth", "kind", "eye", "exclude")
MATCH_FRAMES = 2  # a re-analysis may find a detected apex this many frames away: same event
SEARCH_S = 0.2  # adding at the playhead: the apex is the EAR minimum within this distance
EDGE_S = 0.35  # how far the edges may lie from the apex when read from the curve


@dataclass(frozen=True)
class BlinkEdits:
    """Corrections of one clip. Immutable: every operation returns a new value (cheap undo snapshots)."""

    deleted: tuple[int, ...] = ()  # detected apexes removed
    changed: tuple[tuple[int, tuple[tuple[str, object], ...]], ...] = ()  # detected apex -> field overrides
    added: tuple[tuple[tuple[str, object], ...], ...] = ()  # whole events drawn by hand

    @property
    def count(self) -> int:
        return len(self.deleted) + len(self.changed) + len(self.added)

    def changes(self) -> dict[int, dict]:
        return {apex: dict(values) for apex, values in self.changed}

    def additions(self) -> list[dict]:
        return [dict(values) for values in self.added]

    def to_dict(self) -> dict:
        return {"deleted": list(self.deleted),
                "changed": [{"detected_apex": apex, **values} for apex, values in self.changes().items()],
                "added": self.additions()}

    @classmethod
    def from_dict(cls, data, name: str = "blink edits") -> "BlinkEdits":
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise InputError(f"{name} must be an object with deleted/changed/added lists")
        try:
            deleted = tuple(sorted({int(a) for a in data.get("deleted") or []}))
            changed = {}
            for item in data.get("changed") or []:
                apex = int(item["detected_apex"])
                changed[apex] = _clean_fields({k: v for k, v in item.items() if k != "detected_apex"}, name)
            added = [_clean_fields(item, name, whole=True) for item in data.get("added") or []]
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{name} are damaged ({exc.__class__.__name__}: {exc})") from None
        return _make(deleted, changed, added)


def _make(deleted, changed: dict[int, dict], added: list[dict]) -> BlinkEdits:
    return BlinkEdits(tuple(sorted(set(deleted))),
                      tuple((apex, tuple(sorted(values.items()))) for apex, values in sorted(changed.items())),
                      tuple(tuple(sorted(values.items())) for values in sorted(added, key=lambda v: v["apex"])))


def _clean_fields(values: dict, name: str, whole: bool = False) -> dict:
    out = {}
    for key in EDITABLE:
        if key not in values:
            continue
        value = values[key]
        if key in ("start", "apex", "end"):
            value = int(value)
        elif key == "depth":
            value = round(float(value), 4)
        elif key == "exclude":
            value = bool(value)
        elif key == "kind" and value not in KINDS:
            raise InputError(f"{name}: unknown blink kind {value!r} (one of {', '.join(KINDS)})")
        elif key == "eye" and value not in EYES:
            raise InputError(f"{name}: unknown eye {value!r} (one of {', '.join(EYES)})")
        out[key] = value
    if whole:
        missing = [k for k in ("start", "apex", "end") if k not in out]
        if missing:
            raise InputError(f"{name}: an added blink needs {', '.join(missing)}")
    if all(k in out for k in ("start", "apex", "end")) and not out["start"] <= out["apex"] <= out["end"]:
        raise InputError(f"{name}: a blink needs start <= apex <= end (got {out['start']}, {out['apex']}, "
                         f"{out['end']})")
    return out


def _match(keys, apex: int) -> int | None:
    near = [k for k in keys if abs(k - apex) <= MATCH_FRAMES]
    return min(near, key=lambda k: abs(k - apex)) if near else None


def _finish(event: BlinkEvent, n_frames: int) -> BlinkEvent:
    """Derived fields that follow the user's choices: one-eye kinds are one-eyed, the others both."""
    if event.kind == "one_eye" and event.eye == "both":
        event = replace(event, eye="right")
    edge = event.start <= 0 or event.end >= n_frames - 1
    return replace(event, both_eyes=event.eye == "both", touches_edge=edge)


def apply(detected: list[BlinkEvent], edits: BlinkEdits, n_frames: int) -> list[BlinkEvent]:
    """The corrected events, sorted by apex, each with its origin ("detected", "edited" or "added")."""
    changes = edits.changes()
    out = []
    for event in detected:
        if _match(edits.deleted, event.apex) is not None:
            continue
        key = _match(changes, event.apex)
        if key is None:
            out.append(replace(event, origin="detected", key=f"d{event.apex}"))
            continue
        values = changes[key]
        edited = replace(event, origin="edited", key=f"d{key}", **values)
        if "kind" in values and values["kind"] != "one_eye" and "eye" not in values:
            edited = replace(edited, eye="both")
        out.append(_finish(edited, n_frames))
    for k, values in enumerate(edits.additions()):
        base = dict(depth=1.0, confidence=1.0, kind="blink", touches_edge=False, touches_gap=False,
                    both_eyes=True, eye="both")
        base.update(values)
        out.append(_finish(BlinkEvent(**base, origin="added", key=f"a{k}"), n_frames))
    return sorted(out, key=lambda e: (e.apex, e.key))


# --- operations on the corrected events ------------------------------------------------------------------------
def _fields_of(event: BlinkEvent) -> dict:
    return {k: getattr(event, k) for k in EDITABLE}


def update(edits: BlinkEdits, event: BlinkEvent, **values) -> BlinkEdits:
    """Change fields of a corrected event (identified by its key)."""
    deleted, changes, added = list(edits.deleted), edits.changes(), edits.additions()
    if "kind" in values and values["kind"] != "one_eye":
        values.setdefault("eye", "both")  # a blink, long closure or half blink closes both eyes
    values = _clean_fields({**_fields_of(event), **values}, "blink edit")
    if event.key.startswith("a"):
        added[int(event.key[1:])] = values
    else:
        apex = int(event.key[1:])
        changes[apex] = {**changes.get(apex, {}), **{k: v for k, v in values.items() if getattr(event, k) != v}}
    return _make(deleted, changes, added)


def delete(edits: BlinkEdits, event: BlinkEvent) -> BlinkEdits:
    deleted, changes, added = list(edits.deleted), edits.changes(), edits.additions()
    if event.key.startswith("a"):
        del added[int(event.key[1:])]
    else:
        apex = int(event.key[1:])
        changes.pop(apex, None)
        deleted.append(apex)
    return _make(deleted, changes, added)


def add(edits: BlinkEdits, values: dict) -> BlinkEdits:
    return _make(edits.deleted, edits.changes(), edits.additions() + [_clean_fields(values, "blink", whole=True)])


# --- reading events from the curve ------------------------------------------------------------------------------
def _finite(o: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(o), o, 1.0)


def local_minima(values: np.ndarray) -> list[int]:
    """Frames where the curve is lower than both neighbours (plateaus: their first frame): apex snap targets."""
    v = _finite(np.asarray(values, float))
    n = len(v)
    return [i for i in range(n) if (i == 0 or v[i] < v[i - 1]) and (i == n - 1 or v[i] <= v[i + 1])]


def curve_edges(openness: np.ndarray, apex: int, fps: float) -> tuple[int, int]:
    """Start and end around an apex, the detector's rule: where the lid is 80 % back to the open level."""
    o = _finite(openness)
    n = len(o)
    reach = max(2, int(round(EDGE_S * fps)))
    low = o[apex]
    lo, hi = max(0, apex - reach), min(n - 1, apex + reach)
    edges = []
    for step, limit in ((-1, lo), (1, hi)):
        side = o[min(apex, limit):max(apex, limit) + 1]
        level = float(side.max()) if side.size else low
        threshold = level - 0.2 * (level - low)
        i = apex
        while i != limit and o[i + step] < threshold:
            i += step
        edges.append(i)
    return edges[0], edges[1]


def event_at(frame: int, openness: np.ndarray, o_right: np.ndarray, o_left: np.ndarray,
             fps: float) -> dict:
    """Fields of a blink added near `frame`: apex at the nearby openness minimum, edges from the curve."""
    o = _finite(openness)
    n = len(o)
    frame = max(0, min(int(frame), n - 1))
    reach = max(1, int(round(SEARCH_S * fps)))
    lo, hi = max(0, frame - reach), min(n, frame + reach + 1)
    apex = lo + int(np.argmin(o[lo:hi]))
    start, end = curve_edges(o, apex, fps)
    depth = float(np.clip(1.0 - o[apex], 0.0, 1.0))
    window = slice(max(0, apex - 1), min(n, apex + 2))
    per_eye = [float(np.nanmin(c[window])) if np.any(np.isfinite(c[window])) else np.nan for c in (o_right, o_left)]
    eye = closed_eye(per_eye, depth) if depth > 0 else "both"
    duration = (end - start + 1) / fps
    kind = "one_eye" if eye != "both" else ("blink" if duration <= MAX_BLINK_S else "long_closure")
    return {"start": int(start), "apex": int(apex), "end": int(end), "depth": round(depth, 4), "kind": kind,
            "eye": eye, "exclude": False}


def move_handle(event: BlinkEvent, handle: str, frame: int, openness: np.ndarray, n_frames: int) -> dict:
    """New start/apex/end (and depth) after dragging one handle; the order start <= apex <= end holds."""
    frame = max(0, min(int(frame), n_frames - 1))
    start, apex, end = event.start, event.apex, event.end
    if handle == "start":
        start = min(frame, apex)
    elif handle == "end":
        end = max(frame, apex)
    else:
        apex = max(start, min(frame, end))
    o = _finite(openness)
    depth = round(float(np.clip(1.0 - o[apex], 0.0, 1.0)), 4) if apex != event.apex else event.depth
    return {"start": start, "apex": apex, "end": end, "depth": depth}


def event_dicts(events: list[BlinkEvent], n_frames: int, fps: float) -> list[dict]:
    """Events as JSON objects: every field, its origin, whether it is clean, and the apex time."""
    return [e.to_dict() | {"clean": e.is_clean(n_frames, fps), "apex_time": round(e.apex / fps, 4)}
            for e in events]


def events_from_dicts(items, n_frames: int, name: str) -> list[BlinkEvent]:
    """Events from `event_dicts` JSON (or any list with start/apex/end), checked against the clip."""
    if not isinstance(items, list):
        raise InputError(f"{name}: the blink list must be a JSON list of events")
    out = []
    for k, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise InputError(f"{name}: event {k} is not an object")
        try:
            values = _clean_fields(item, f"{name}: event {k}", whole=True)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{name}: event {k} is damaged ({exc})") from None
        if not (0 <= values["start"] and values["end"] < n_frames):
            raise InputError(f"{name}: event {k} (frames {values['start']}-{values['end']}) lies outside the "
                             f"video (frames 0-{n_frames - 1})")
        base = dict(depth=1.0, confidence=float(item.get("confidence", 1.0) or 0.0), kind="blink",
                    touches_edge=False, touches_gap=bool(item.get("touches_gap", False)), both_eyes=True,
                    eye="both")
        base.update(values)
        origin = item.get("origin", "added")
        origin = origin if origin in ("detected", "edited", "added") else "added"
        key = str(item.get("key") or f"a{k - 1}")
        out.append(_finish(BlinkEvent(**base, origin=origin, key=key), n_frames))
    return sorted(out, key=lambda e: e.apex)
