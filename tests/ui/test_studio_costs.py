"""The studio probes and hashes an opened video once, from opening it to the export's sidecar."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from navtalk_desktop.core import media
from navtalk_desktop.core.loop_plan import make_plan

from studio_helpers import open_and_wait_for_plan


def test_open_analyse_export_probes_and_hashes_the_source_once(qtbot, make_window, monkeypatch, fixtures_dir,
                                                                tmp_path):
    source = (tmp_path / "face.mp4").resolve()
    source.write_bytes((fixtures_dir / "liveportrait_d18.mp4").read_bytes())
    probes, hashes = Counter(), Counter()
    real_probe, real_hash = media.probe, media.content_hash
    monkeypatch.setattr(media, "probe", lambda p, *a, **k: probes.update([Path(p).resolve()]) or real_probe(p, *a, **k))
    monkeypatch.setattr(media, "content_hash",
                        lambda p, *a, **k: hashes.update([Path(p).resolve()]) or real_hash(p, *a, **k))
    window = make_window()
    open_and_wait_for_plan(qtbot, window, source)
    info = window.document.video_info
    window.document.edit_plan(make_plan("pingpong", info.fps, info.frame_count, 95, duration=3.0), "test plan")
    out = tmp_path / "loop.mp4"
    window.export_panel.output_edit.setText(str(out))
    with qtbot.waitSignal(window.loop.export_finished, timeout=60000):
        window.export_panel.export_button.click()
    assert out.exists()
    assert probes[source] == 1 and hashes[source] == 1, (probes, hashes)
    assert json.loads(out.with_name(out.name + ".json").read_text())["source"]["sha256"] == real_hash(source)


def test_analysis_starts_at_once_with_progress_from_the_first_frames(qtbot, make_window, monkeypatch, fixtures_dir,
                                                                      tmp_path):
    monkeypatch.setenv("NAVTALK_CACHE_DIR", str(tmp_path / "cache"))  # nothing cached: landmarks are computed
    source = tmp_path / "fresh.mp4"
    source.write_bytes((fixtures_dir / "liveportrait_d18.mp4").read_bytes())
    window = make_window()
    reports = []
    panel = window.source_panel
    real = panel.set_analysis_progress
    monkeypatch.setattr(panel, "set_analysis_progress", lambda f, text: (reports.append((f, text)), real(f, text)))
    open_and_wait_for_plan(qtbot, window, source)
    fractions = [f for f, text in reports if "Analysing" in text]
    assert fractions and fractions[0] == 0.0  # announced as soon as the probe is in
    moving = [f for f in fractions if 0.0 < f < 1.0]
    assert moving and moving[0] <= 0.2, fractions  # the bar moves from the first frames on
    assert len(set(moving)) >= 3 and moving == sorted(moving), fractions
