"""Generation from the window through the local Kling simulator (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from navtalk_desktop.core import media
from navtalk_desktop.core.jobs import DONE, JobStore
from navtalk_desktop.core.kling.client import PollPolicy
from navtalk_desktop.core.resources import sample_portrait
from navtalk_desktop.core.settings import Settings
from navtalk_desktop.simulator import DEMO_ACCESS_KEY, DEMO_SECRET_KEY, SimulatorConfig, start_simulator

FAST_POLL = PollPolicy(initial=0.2, factor=1.0, max_interval=0.3, timeout=120)


def _fast_demo_window(make_window):
    window = make_window(Settings(demo_mode=True))
    window.generate.simulator_config = SimulatorConfig(submitted_seconds=0.3, processing_seconds=2.5,
                                                       video_max_side=384)
    window.generate.poll_policy = FAST_POLL
    return window


def test_without_keys_the_panel_says_so_and_offers_demo_mode(qtbot, make_window):
    window = make_window(Settings(demo_mode=False))
    panel = window.generate_panel
    window.open_path(sample_portrait())
    assert "No Kling keys" in panel.keys_label.text()
    assert not panel.generate_button.isEnabled()
    panel.demo_check.setChecked(True)
    assert "Demo mode" in panel.keys_label.text()
    assert panel.generate_button.isEnabled()
    assert window.settings.demo_mode


def test_generate_in_demo_mode_end_to_end(qtbot, make_window):
    window = _fast_demo_window(make_window)
    panel, jobs = window.generate_panel, window.jobs_panel
    window.open_path(sample_portrait())
    assert panel.generate_button.isEnabled()
    # the default NavTalk prompt is there, editable
    assert "blink once" in panel.prompt_edit.toPlainText()
    values = []
    panel.progress_bar.valueChanged.connect(values.append)
    shown_texts = []  # every status line the panel showed, download progress included
    show_progress = panel.show_progress
    panel.show_progress = lambda p: (show_progress(p), shown_texts.append(panel.status_label.text()))
    statuses = []
    with qtbot.waitSignal(window.generate.video_ready, timeout=120000) as ready:
        panel.generate_button.click()
        assert panel.cancel_button.isVisible() and panel.progress_bar.isVisible()
        qtbot.waitUntil(lambda: "elapsed" in panel.status_label.text(), timeout=30000)
        statuses.append(panel.status_label.text())
    result = ready.args[0]
    assert len(set(values)) >= 3 and max(values) > 500  # the bar advanced through the stages
    assert "about" in statuses[0] or "longer" in statuses[0]  # elapsed time and an estimate
    assert any(t.startswith(f"Job {result.job.id}: Downloading") and " MB" in t for t in shown_texts), shown_texts
    # the job is in the list, done, with an Open button
    row = jobs.row_of(result.job.id)
    assert row >= 0 and jobs.state_of(result.job.id) == "done"
    assert jobs.table.cellWidget(row, 5).text() == "Open"
    # the video opens in the timeline, remembering the portrait and the job
    qtbot.waitUntil(lambda: window.document.plan is not None, timeout=60000)
    doc = window.document
    assert doc.source_kind == "video" and doc.source_path == result.video
    assert doc.portrait_path == sample_portrait() and doc.job_id == str(result.job.id)
    assert media.probe(result.video).frame_count == doc.frame_count
    assert window.timeline._curves  # the EAR curve is drawn
    assert "done" in panel.status_label.text()


def test_cancel_generation_keeps_a_resumable_job(qtbot, make_window):
    window = _fast_demo_window(make_window)
    window.generate.simulator_config = SimulatorConfig(submitted_seconds=0.3, processing_seconds=30.0)
    panel = window.generate_panel
    window.open_path(sample_portrait())
    with qtbot.waitSignal(window.generate.jobs_changed, timeout=30000):
        panel.generate_button.click()
    qtbot.waitUntil(lambda: "elapsed" in panel.status_label.text(), timeout=30000)
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: panel.generate_button.isVisible(), timeout=30000)
    assert "cancelled" in panel.status_label.text().lower()
    job = window.generate.store().list()[0]
    assert job.resumable
    qtbot.waitUntil(lambda: "paused" in window.jobs_panel.state_of(job.id), timeout=5000)
    assert window.jobs_panel.table.cellWidget(window.jobs_panel.row_of(job.id), 5).text() == "Resume"


def test_closing_during_generation_stops_cleanly(qtbot, make_window):
    from PySide6.QtCore import QThreadPool

    window = _fast_demo_window(make_window)
    window.generate.simulator_config = SimulatorConfig(submitted_seconds=0.3, processing_seconds=60.0)
    window.open_path(sample_portrait())
    window.generate_panel.generate_button.click()
    qtbot.waitUntil(lambda: "elapsed" in window.generate_panel.status_label.text(), timeout=30000)
    started = time.monotonic()
    window.close()
    assert time.monotonic() - started < 10
    assert QThreadPool.globalInstance().activeThreadCount() == 0
    assert window.generate._simulator is None  # the demo simulator was stopped with the window
    store = JobStore()
    assert store.list()[0].resumable  # nothing lost: the job can continue later
    store.close()


def test_opening_a_finished_job_from_the_list(qtbot, make_window):
    window = _fast_demo_window(make_window)
    window.open_path(sample_portrait())
    with qtbot.waitSignal(window.loop.plan_ready, timeout=120000):
        window.generate_panel.generate_button.click()
    job_id = int(window.document.job_id)
    window.open_path(sample_portrait())  # something else is open now
    assert window.document.source_kind == "image"
    window.jobs_panel.table.cellWidget(window.jobs_panel.row_of(job_id), 5).click()
    assert window.document.source_kind == "video" and window.document.job_id == str(job_id)


def _studio() -> list[str]:
    script = Path(sys.executable).parent / "navtalk-studio"
    return [str(script)] if script.exists() else [sys.executable, "-m", "navtalk_desktop"]


@pytest.mark.slow
def test_kill_and_restart_resumes_the_job(tmp_path, shared_cache_dir):
    """A Kling-like server (the simulator) outlives the app: kill -9 mid-generation, restart, it resumes."""
    sim = start_simulator(config=SimulatorConfig(submitted_seconds=1.0, processing_seconds=6.0,
                                                 video_max_side=384))
    try:
        config = tmp_path / "config"
        config.mkdir()
        (config / "settings.json").write_text(json.dumps({"base_url": sim.base_url, "demo_mode": False}))
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", NAVTALK_CONFIG_DIR=str(config),
                   NAVTALK_DATA_DIR=str(tmp_path / "data"), NAVTALK_LOG_DIR=str(tmp_path / "logs"),
                   NAVTALK_CACHE_DIR=str(shared_cache_dir), KLING_ACCESS_KEY=DEMO_ACCESS_KEY,
                   KLING_SECRET_KEY=DEMO_SECRET_KEY, PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
        first = subprocess.Popen([*_studio(), str(sample_portrait()), "--generate"], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        db = tmp_path / "data" / "jobs.sqlite3"
        deadline = time.monotonic() + 60
        job = None
        while time.monotonic() < deadline and first.poll() is None:
            if db.exists():
                store = JobStore(db)
                jobs = store.list()
                store.close()
                if jobs and jobs[0].task_id:
                    job = jobs[0]
                    break
            time.sleep(0.2)
        first.kill()
        first.wait(10)
        assert job is not None, "the first run never submitted its task"
        store = JobStore(db)
        assert store.get(job.id).resumable  # killed mid-generation
        store.close()

        out = tmp_path / "out" / "resumed_loop.mp4"
        out.parent.mkdir()
        second = subprocess.run([*_studio(), "--export", str(out), "--quit", "--no-restore"], env=env,
                                capture_output=True, text=True, timeout=240)
        assert second.returncode == 0, second.stderr[-3000:]
        store = JobStore(db)
        resumed = store.get(job.id)
        assert resumed.stage == DONE and len(store.list()) == 1
        store.close()
        assert sim.stats.create_requests == 1  # resumed, not submitted (and paid for) twice
        assert media.probe(out).frame_count > 0
    finally:
        sim.stop()


def test_loop_tail_offered_only_where_the_model_allows_it(qtbot, window):
    from navtalk_desktop.core.kling.capabilities import MODELS, model_capabilities

    panel = window.generate_panel
    offered = refused = 0
    for model in MODELS:
        panel.model_box.setCurrentIndex(panel.model_box.findData(model))
        caps = model_capabilities(model)
        assert [panel.duration_box.itemData(i) for i in range(panel.duration_box.count())] == list(caps.durations)
        for mode in caps.modes:
            panel.mode_box.setCurrentIndex(panel.mode_box.findData(mode))
            for duration in caps.durations:
                panel.duration_box.setCurrentIndex(panel.duration_box.findData(duration))
                allowed = caps.supports_tail(mode, duration)
                assert panel.tail_check.isEnabled() is allowed, (model, mode, duration)
                if allowed:
                    offered += 1
                    panel.tail_check.setChecked(True)
                    assert panel.settings().loop_tail
                else:
                    refused += 1
                    assert not panel.tail_check.isChecked() and not panel.settings().loop_tail
                    assert "end frame" in panel.tail_check.toolTip()
    assert offered and refused


def test_a_real_job_resumes_on_its_own_server_while_demo_mode_is_on(qtbot, make_window, monkeypatch):
    """A Kling job left unfinished resumes on Kling with the user's keys, not on the demo simulator."""
    sim = start_simulator(config=SimulatorConfig(submitted_seconds=0.3, processing_seconds=4.0,
                                                 video_max_side=384))  # stands in for Kling
    try:
        monkeypatch.setenv("KLING_ACCESS_KEY", DEMO_ACCESS_KEY)
        monkeypatch.setenv("KLING_SECRET_KEY", DEMO_SECRET_KEY)
        window = make_window(Settings(base_url=sim.base_url, demo_mode=False))
        window.generate.poll_policy = FAST_POLL
        panel = window.generate_panel
        window.open_path(sample_portrait())
        panel.generate_button.click()
        qtbot.waitUntil(lambda: "elapsed" in panel.status_label.text(), timeout=30000)
        panel.cancel_button.click()
        qtbot.waitUntil(lambda: panel.generate_button.isVisible(), timeout=30000)
        job = window.generate.store().list()[0]
        assert job.resumable and job.base_url == sim.base_url

        panel.demo_check.setChecked(True)  # the user switches to demo mode meanwhile
        with qtbot.waitSignal(window.generate.video_ready, timeout=60000) as ready:
            window.generate.resume_unfinished()  # what the studio does when it starts
        result = ready.args[0]
        assert result.job.id == job.id and result.resumed
        assert sim.stats.create_requests == 1  # continued, not submitted again
        assert window.generate._simulator is None  # the demo simulator was never involved
        assert window.jobs_panel.state_of(job.id) == "done"
    finally:
        sim.stop()


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _unreachable_window(make_window, monkeypatch):
    monkeypatch.setenv("KLING_ACCESS_KEY", DEMO_ACCESS_KEY)
    monkeypatch.setenv("KLING_SECRET_KEY", DEMO_SECRET_KEY)
    port = _closed_port()
    window = make_window(Settings(base_url=f"http://127.0.0.1:{port}", demo_mode=False))
    window.open_path(sample_portrait())
    return window, f"127.0.0.1:{port}"


def test_unreachable_host_shows_each_attempt_and_cancel_works_at_once(qtbot, make_window, monkeypatch):
    window, host = _unreachable_window(make_window, monkeypatch)
    panel = window.generate_panel
    panel.generate_button.click()
    qtbot.waitUntil(lambda: "cannot reach" in panel.status_label.text(), timeout=15000)
    assert f"cannot reach {host} (attempt 1 of 4, next in 2 s)" in panel.status_label.text()
    started = time.monotonic()
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: panel.generate_button.isVisible(), timeout=5000)
    assert time.monotonic() - started < 1.0  # the backoff wait ends at once, not after its 2 s
    assert "cancelled" in panel.status_label.text().lower()


def test_unreachable_host_ends_with_the_host_and_the_cause(qtbot, make_window, monkeypatch):
    window, host = _unreachable_window(make_window, monkeypatch)
    panel = window.generate_panel
    messages = []
    window.generate.message.connect(lambda text, level: messages.append((level, text)))
    started = time.monotonic()
    panel.generate_button.click()
    qtbot.waitUntil(lambda: "attempt 3 of 4" in panel.status_label.text(), timeout=30000)
    qtbot.waitUntil(lambda: panel.generate_button.isVisible(), timeout=30000)
    assert time.monotonic() - started < 30
    text = panel.status_label.text()
    assert text.startswith(f"Generation failed: cannot reach {host}: nothing is listening there"), text
    assert "ConnectError" not in text and "(tried 4 times)" in text
    assert any(level == "error" and host in m for level, m in messages)


def test_a_job_left_on_a_stopped_simulator_is_closed_as_the_cli_closes_it(qtbot, make_window):
    """Any loopback address counts (127.0.0.2 too), and the error kind and words are the CLI's."""
    from navtalk_desktop.kling_session import SIMULATOR_GONE, SIMULATOR_STOPPED

    store = JobStore()
    url = "http://127.0.0.2:5"
    job = store.create(external_task_id="navtalk-left", base_url=url, model="kling-v3", mode="std", duration="3",
                       source_image="/nowhere/p.png", upload_image="/nowhere/u.png", image_sha256="0" * 64)
    window = make_window(Settings(demo_mode=True))
    window.generate.resume_unfinished()
    closed = store.get(job.id)
    assert closed.stage == "failed" and closed.error_kind == SIMULATOR_STOPPED
    assert closed.error_message == SIMULATOR_GONE.format(url=url)
    store.close()
