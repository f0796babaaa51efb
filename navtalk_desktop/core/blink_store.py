"""Where blink corrections live: a small JSON store keyed by the clip's content hash, and blink-list files.

The store sits in the user data folder, apart from the landmarks cache (clearing the cache or
re-analysing never loses an artist's work), and is written atomically. A blink-list file is what
`navtalk-loop analyze --json` prints; `navtalk-loop export --blinks FILE` reads its corrected events back.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from . import strict_json
from .atomic import write_text_atomic
from .blink_edits import BlinkEdits, apply, event_dicts, events_from_dicts
from .errors import InputError

FORMAT = "navtalk-blink-edits"
VERSION = 1
FILENAME = "blink_edits.json"


def store_path() -> Path:
    from .app_paths import data_dir  # the per-user data folder (NAVTALK_DATA_DIR in tests)

    return data_dir() / FILENAME


def _read_store(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return {}  # a damaged store must not stop the studio; the next save rewrites it whole
    clips = data.get("clips") if isinstance(data, dict) and data.get("format") == FORMAT else None
    return clips if isinstance(clips, dict) else {}


def load_edits(content_hash: str) -> BlinkEdits:
    """The stored corrections of a clip (none when the store has no entry or the entry is damaged)."""
    if not content_hash:
        return BlinkEdits()
    try:
        return BlinkEdits.from_dict(_read_store(store_path()).get(content_hash))
    except InputError:
        return BlinkEdits()


def save_edits(content_hash: str, edits: BlinkEdits) -> None:
    """Store (or, for no edits, forget) a clip's corrections; the whole file is replaced atomically."""
    if not content_hash:
        return
    path = store_path()
    clips = _read_store(path)
    if edits.count:
        clips[content_hash] = edits.to_dict()
    else:
        clips.pop(content_hash, None)
    write_text_atomic(path, strict_json.dumps({"format": FORMAT, "version": VERSION, "clips": clips}) + "\n")


def content_hash_of(analysis) -> str:
    track = getattr(analysis, "track", None)
    return getattr(track, "content_hash", "") if track is not None else ""


def corrected(analysis, edits: BlinkEdits):
    """The analysis with its events replaced by the corrected set (the detection kept in `detected_events`)."""
    detected = analysis.detected
    return replace(analysis, events=apply(detected, edits, analysis.frame_count), detected_events=list(detected),
                   edits=edits)


def with_stored_corrections(analysis):
    """The analysis as the artist corrected it in the studio (unchanged when the clip has no edits)."""
    return corrected(analysis, load_edits(content_hash_of(analysis)))


def read_blink_list(path: Path | str, analysis):
    """The analysis with its events replaced by those of a blink-list file (`analyze --json` output)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"blink list not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read blink list {path}: {exc}") from None
    except ValueError as exc:
        raise InputError(f"{path.name} is not valid JSON ({exc})") from None
    items = data.get("events") if isinstance(data, dict) else data
    if isinstance(data, dict):
        wanted = data.get("content_hash") or ""
        if not isinstance(wanted, str):
            raise InputError(f"{path.name}: content_hash must be the clip's SHA-256 as text, not {wanted!r}")
        actual = content_hash_of(analysis)
        if wanted and actual and wanted != actual:
            raise InputError(f"{path.name} holds the blinks of another clip (content hash {wanted[:12]}…, "
                             f"this video is {actual[:12]}…)")
    events = events_from_dicts(items, analysis.frame_count, path.name)
    return replace(analysis, events=events, detected_events=list(analysis.detected))


def blink_list(analysis) -> list[dict]:
    return event_dicts(analysis.events, analysis.frame_count, analysis.fps)
