"""Blink corrections in core: the edit model on real detections, the store, the plan they drive, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from navtalk_desktop.core import blink_edits as be
from navtalk_desktop.core import blink_refit, blink_store
from navtalk_desktop.core.analysis import analyze_video
from navtalk_desktop.core.auto_loop import plan_loop
from navtalk_desktop.core.blink_rules import plan_conflicts, plan_notes
from navtalk_desktop.core.blinks import BlinkEvent
from navtalk_desktop.core.errors import InputError
from navtalk_desktop.core.loop_plan import BLENDED
from navtalk_desktop.core.project import Project, load_project, save_project


@pytest.fixture(scope="module")
def d18(fixtures_dir):
    path = fixtures_dir / "liveportrait_d18.mp4"
    return path, analyze_video(path)


@pytest.fixture(scope="module")
def d12(fixtures_dir):
    path = fixtures_dir / "liveportrait_d12.mp4"
    return path, analyze_video(path)


def by_apex(analysis, apex):
    return next(e for e in analysis.events if abs(e.apex - apex) <= 2)


def test_detected_events_say_which_eye_closed(d18, d12):
    for _path, a in (d18, d12):
        assert a.events and all(e.eye == "both" and e.both_eyes and e.origin == "detected" for e in a.events)
        assert all(e.key == f"d{e.apex}" for e in a.events)


def test_one_eye_closure_is_detected_and_reported_as_such(d18):
    """Hold the left eye open over the first blink: the event is found, as a right-eye closure, not clean."""
    _path, a = d18
    blink = a.events[0]
    left = a.ear_left.copy()
    left[blink.start - 3:blink.end + 4] = np.nanmedian(a.ear_left)
    from navtalk_desktop.core.blinks import detect_blinks

    events, _ = detect_blinks(a.ear_right, left, a.fps)
    one = next(e for e in events if abs(e.apex - blink.apex) <= 2)
    assert (one.eye, one.both_eyes) == ("right", False)
    assert not one.is_clean(a.frame_count, a.fps)
    assert next(e for e in events if abs(e.apex - a.events[1].apex) <= 2).eye == "both"


def test_delete_edit_add_and_origins(d18):
    _path, a = d18
    first, second = a.events
    edits = be.delete(be.BlinkEdits(), first)
    edits = be.update(edits, second, end=second.end + 2)
    values = be.event_at(60, a.openness, a.openness, a.openness, a.fps)
    edits = be.add(edits, values)
    out = be.apply(a.events, edits, a.frame_count)
    assert [(e.origin, e.apex) for e in out] == [("added", values["apex"]), ("edited", second.apex)]
    assert out[1].end == second.end + 2 and out[1].start == second.start
    assert abs(values["apex"] - 60) <= round(be.SEARCH_S * a.fps)
    assert values["start"] <= values["apex"] <= values["end"]
    # the same edits fit a re-analysis that finds the apex a frame away
    shifted = [BlinkEvent(**{**e.__dict__, "apex": e.apex + 1, "key": f"d{e.apex + 1}"}) for e in a.events]
    again = be.apply(shifted, edits, a.frame_count)
    assert [e.origin for e in again] == ["added", "edited"]
    # the edits round-trip through JSON exactly
    assert be.BlinkEdits.from_dict(json.loads(json.dumps(edits.to_dict()))) == edits


def test_kind_and_exclusion_edits(d18):
    _path, a = d18
    e = a.events[1]
    one = be.apply(a.events, be.update(be.BlinkEdits(), e, kind="one_eye", eye="left"), a.frame_count)[1]
    assert (one.kind, one.eye, one.both_eyes) == ("one_eye", "left", False)
    assert not one.is_clean(a.frame_count, a.fps)
    back = be.update(be.update(be.BlinkEdits(), e, kind="one_eye", eye="left"), one, kind="blink")
    assert be.apply(a.events, back, a.frame_count)[1].both_eyes
    excluded = be.apply(a.events, be.update(be.BlinkEdits(), e, exclude=True), a.frame_count)[1]
    assert excluded.exclude and not excluded.is_clean(a.frame_count, a.fps)


def test_bad_edits_are_refused_with_a_reason():
    with pytest.raises(InputError, match="unknown blink kind"):
        be.BlinkEdits.from_dict({"added": [{"start": 1, "apex": 2, "end": 3, "kind": "wink"}]})
    with pytest.raises(InputError, match="start <= apex <= end"):
        be.BlinkEdits.from_dict({"added": [{"start": 5, "apex": 2, "end": 3}]})
    with pytest.raises(InputError, match="needs"):
        be.BlinkEdits.from_dict({"added": [{"start": 1}]})


def test_store_keyed_by_content_hash_survives_reanalysis(d18, tmp_path, monkeypatch):
    monkeypatch.setenv("NAVTALK_DATA_DIR", str(tmp_path / "data"))
    path, a = d18
    key = blink_store.content_hash_of(a)
    assert key
    edits = be.delete(be.BlinkEdits(), a.events[0])
    blink_store.save_edits(key, edits)
    store = json.loads(blink_store.store_path().read_text())
    assert store["clips"][key]["deleted"] == [a.events[0].apex]
    assert not list(blink_store.store_path().parent.glob("*.tmp*"))  # written through a renamed temp file
    fresh = blink_store.with_stored_corrections(analyze_video(path))  # re-analysis (landmarks from cache)
    assert [e.apex for e in fresh.events] == [a.events[1].apex]
    assert [e.apex for e in fresh.detected_events] == [e.apex for e in a.events]
    blink_store.save_edits(key, be.BlinkEdits())  # reset to detected forgets the clip
    assert key not in json.loads(blink_store.store_path().read_text())["clips"]


def test_plan_follows_deleted_and_added_blinks(d18):
    path, a = d18
    assert plan_loop(a, path).plan.loop_point == 96
    without_first = blink_store.corrected(a, be.delete(be.BlinkEdits(), by_apex(a, 96)))
    assert plan_loop(without_first, path).plan.loop_point == 187  # the deleted blink no longer attracts it
    none = be.delete(be.delete(be.BlinkEdits(), a.events[0]), a.events[1])
    added = be.add(none, be.event_at(60, a.openness, a.openness, a.openness, a.fps))
    corrected = blink_store.corrected(a, added)
    apex = corrected.events[0].apex
    assert corrected.events[0].origin == "added" and corrected.events[0].is_clean(a.frame_count, a.fps)
    assert plan_loop(corrected, path).plan.loop_point == apex  # the added one does


def test_excluded_blink_is_never_crossed(d18):
    path, a = d18
    plain = plan_loop(a, path, strategy="pingpong").plan  # a ping-pong plays its blink backwards
    second = next(e for e in a.events if plain.first <= e.start and e.end <= plain.last)
    edits = be.update(be.BlinkEdits(), second, exclude=True)
    corrected = blink_store.corrected(a, edits)
    assert plan_conflicts(plain, corrected.events)  # the plan picked before plays the excluded blink backwards
    assert any("never to loop through" in n for n in plan_notes(plain, corrected.events))
    for strategy in ("pingpong", "auto"):
        choice = plan_loop(corrected, path, strategy=strategy)
        assert not plan_conflicts(choice.plan, corrected.events)
        lo, hi = choice.plan.source_range
        assert second.end < lo or second.start > hi or (
            choice.plan.strategy in BLENDED and choice.plan.first <= second.start
            and second.end < choice.plan.faded_range[0])


def test_project_keeps_the_corrections(d18, tmp_path):
    _path, a = d18
    edits = be.update(be.delete(be.BlinkEdits(), a.events[0]), a.events[1], kind="one_eye", eye="right")
    saved = save_project(Project(source=str(tmp_path / "clip.mp4"), blink_edits=edits), tmp_path / "p.navtalk.json")
    assert load_project(saved).blink_edits == edits
    data = json.loads(saved.read_text())
    data["blinks"]["changed"][0]["kind"] = "squint"
    saved.write_text(json.dumps(data))
    with pytest.raises(InputError, match="squint"):
        load_project(saved)


def shallow_face(a):
    """d12 with its blinks at 93 and 136 made shallow (a face that half-closes): the detector misses both."""
    from dataclasses import replace

    from navtalk_desktop.core.blinks import detect_blinks
    from navtalk_desktop.core.ear import mean_of_eyes

    right, left = a.ear_right.copy(), a.ear_left.copy()
    for curve in (right, left):
        open_level = np.nanmedian(curve)
        for lo, hi in ((88, 97), (130, 140)):
            curve[lo:hi] = open_level - (open_level - curve[lo:hi]) * 0.45
    events, openness = detect_blinks(right, left, a.fps)
    return replace(a, ear_right=right, ear_left=left, ear_mean=mean_of_eyes(right, left), openness=openness,
                   events=events, detected_events=None, edits=None)


def test_refit_finds_the_faces_other_shallow_blinks(d12):
    _path, a = d12
    face = shallow_face(a)
    assert [e.apex for e in face.events] == [50]
    # the artist adds the missed blink at 93 and widens the one at 50: two corrections
    edits = be.add(be.BlinkEdits(), be.event_at(93, face.openness, face.openness, face.openness, a.fps))
    edits = be.update(edits, face.events[0], end=face.events[0].end + 1)
    corrected = blink_store.corrected(face, edits)
    assert not blink_refit.can_refit(blink_store.corrected(face, be.BlinkEdits()))
    assert blink_refit.can_refit(corrected)
    t = blink_refit.fit_thresholds(corrected.events, a.fps)
    shallowest = min(e.depth for e in blink_refit.accepted_blinks(corrected.events))
    assert shallowest < 0.3 and t.min_prominence == pytest.approx(max(0.1, 0.6 * shallowest))
    proposal = blink_refit.propose(corrected)
    assert [abs(d["apex"] - 136) <= 2 for d in proposal.appear] == [True]  # the other shallow blink
    assert not proposal.vanish
    lines = proposal.describe(a.fps)
    assert lines[0].startswith("fitted to this face") and "+ new blink at frame" in lines[1]
    applied = blink_store.corrected(face, blink_refit.apply_proposal(edits, proposal))
    assert [(e.origin, abs(e.apex - 136) <= 2) for e in applied.events][-1] == ("added", True)
    assert len(applied.events) == 3


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "navtalk_desktop.cli.main", *map(str, args)],
                          capture_output=True, text=True, timeout=600, env=env)


def test_cli_round_trip_through_blinks_file(d18, tmp_path, monkeypatch):
    """Corrections stored on the artist's machine -> analyze --json -> export --blinks on a clean machine."""
    from navtalk_desktop.core.export import sidecar_path_for

    path, a = d18
    artist = dict(os.environ, NAVTALK_DATA_DIR=str(tmp_path / "artist"))
    operator = dict(os.environ, NAVTALK_DATA_DIR=str(tmp_path / "operator"))
    edits = be.delete(be.BlinkEdits(), by_apex(a, 96))
    edits = be.update(edits, by_apex(a, 187), end=by_apex(a, 187).end + 1)
    monkeypatch.setenv("NAVTALK_DATA_DIR", artist["NAVTALK_DATA_DIR"])
    blink_store.save_edits(blink_store.content_hash_of(a), edits)
    proc = run_cli("analyze", path, "--json", env=artist)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [(e["apex"], e["origin"]) for e in data["events"]] == [(187, "edited")]
    assert data["events"][0]["end"] == by_apex(a, 187).end + 1
    assert [(e["apex"], e["origin"]) for e in data["detected_events"]] == [(96, "detected"), (187, "detected")]
    blinks = tmp_path / "blinks.json"
    blinks.write_text(proc.stdout)
    # the operator's machine has no stored corrections: its analysis shows the detection only
    proc = run_cli("analyze", path, "--json", env=operator)
    assert [e["origin"] for e in json.loads(proc.stdout)["events"]] == ["detected", "detected"]
    out = tmp_path / "loop.mp4"
    proc = run_cli("export", path, "--out", out, "--blinks", blinks, env=operator)
    assert proc.returncode == 0, proc.stderr
    assert "blinks: 1 from" in proc.stderr and "around frame 187" in proc.stderr
    assert json.loads(sidecar_path_for(out).read_text())["plan"]["loop_point"] == 187
    # a blink list of another clip, or a damaged one, is refused and nothing is written
    data["content_hash"] = "0" * 64
    other = tmp_path / "other.json"
    other.write_text(json.dumps(data))
    bad_out = tmp_path / "bad.mp4"
    proc = run_cli("export", path, "--out", bad_out, "--blinks", other, env=operator)
    assert proc.returncode != 0 and "another clip" in proc.stderr and not bad_out.exists()
    other.write_text(json.dumps({"events": [{"start": 10, "apex": 5, "end": 12}]}))
    proc = run_cli("export", path, "--out", bad_out, "--blinks", other, env=operator)
    assert proc.returncode != 0 and "start <= apex <= end" in proc.stderr and not bad_out.exists()
