"""The project file and the typed settings, on their own and through the window."""

from __future__ import annotations

import json

import pytest

from navtalk_desktop.core.errors import InputError
from navtalk_desktop.core.loop_plan import make_plan
from navtalk_desktop.core.project import ExportSettings, Project, load_project, save_project
from navtalk_desktop.core.settings import Settings, load_settings, save_settings, settings_path

from studio_helpers import CLIP, open_and_wait_for_plan


def test_project_round_trip_with_relative_paths(tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    video = folder / "clip.mp4"
    video.write_bytes(b"x")
    plan = make_plan("crossfade", 30, 216, 95, duration=4.0)
    project = Project(source=str(video), job_id="7", analysis_hash="abc", analyser="v1", plan=plan,
                      export=ExportSettings(strategy="crossfade", duration=4.0, format="webm", quality="small"))
    path = save_project(project, folder / "p.navtalk.json")
    data = json.loads(path.read_text())
    assert data["source"] == "clip.mp4"  # relative inside the project folder
    moved = tmp_path / "moved"
    (folder).rename(moved)
    loaded = load_project(moved / "p.navtalk.json")
    assert loaded.source == str(moved / "clip.mp4")
    assert loaded.plan == plan
    assert loaded.export.format == "webm" and loaded.export.quality == "small"
    assert loaded.job_id == "7" and loaded.analysis_hash == "abc"


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ('{"format": "something-else"}', "not a NavTalk Studio project"),
    ('{"format": "navtalk-studio-project", "version": 99}', "newer NavTalk Studio"),
    ('{"format": "navtalk-studio-project", "version": 1, "plan": {"strategy": "pingpong"}}', "damaged loop plan"),
    ('{"format": "navtalk-studio-project", "version": 1, "plan": {"strategy": "pingpong", "fps_num": 30, '
     '"fps_den": 1, "source_frames": 10, "first": 5, "last": 50, "loop_point": 6, "crossfade_frames": 0}}',
     "invalid loop plan"),
])
def test_bad_project_files_have_specific_errors(tmp_path, content, message):
    path = tmp_path / "bad.navtalk.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        load_project(path)
    with pytest.raises(InputError, match="not found"):
        load_project(tmp_path / "missing.navtalk.json")


def test_settings_are_typed_and_hold_no_secret(tmp_path):
    s = Settings(export_duration=3.5, snap_to_apex=False, region="cn")
    s.add_recent(tmp_path / "a.mp4")
    s.add_recent(tmp_path / "b.mp4")
    s.add_recent(tmp_path / "a.mp4")
    save_settings(s)
    assert settings_path().parent == tmp_path / "config"
    loaded = load_settings()
    assert loaded.export_duration == 3.5 and loaded.snap_to_apex is False and loaded.region == "cn"
    assert [p.rsplit("/", 1)[-1] for p in loaded.recent_files] == ["a.mp4", "b.mp4"]
    # a hand-edited file with wrong types, unknown keys and a smuggled secret
    settings_path().write_text(json.dumps({"export_duration": "long", "snap_to_apex": "yes", "recent_files": "x",
                                           "api_key": "sk-123", "secret_key": "abc", "default_model": "kling-v3"}))
    loaded = load_settings()
    assert loaded.export_duration == 4.0 and loaded.snap_to_apex is True and loaded.recent_files == []
    assert loaded.default_model == "kling-v3"
    save_settings(loaded)
    text = settings_path().read_text()
    assert "sk-123" not in text and "secret" not in text and "api_key" not in text
    settings_path().write_text("\x00garbage")
    assert load_settings() == Settings()  # a damaged file never stops the app


def test_save_and_reopen_project_from_the_window(qtbot, make_window, tmp_path):
    first = make_window()
    open_and_wait_for_plan(qtbot, first, CLIP)
    info = first.document.video_info
    first.document.edit_plan(make_plan("pingpong", info.fps, info.frame_count, 186, duration=3.0), "edit")
    first.export_panel.format_box.setCurrentIndex(first.export_panel.format_box.findData("webm"))
    assert first.isWindowModified()
    path = tmp_path / "session.navtalk.json"
    assert first._write_project(path)
    assert not first.document.is_modified and not first.isWindowModified()
    saved_plan = first.document.plan
    first.close()

    settings = load_settings()
    assert settings.last_project == str(path.resolve())
    second = make_window(settings)
    from navtalk_desktop.ui.app import _reopen_last_project

    with qtbot.waitSignal(second.loop.analysis_finished, timeout=30000):
        _reopen_last_project(second)
    qtbot.waitUntil(lambda: second.document.plan is not None, timeout=10000)
    assert second.document.plan == saved_plan  # the edited plan, not a fresh automatic one
    assert second.export_panel.settings().format == "webm"
    assert second.document.project_path == path.resolve()
    assert not second.document.is_modified
    assert "session.navtalk.json" in second.windowTitle()


def test_project_of_a_changed_video_gets_a_new_plan(qtbot, window, tmp_path):
    project = Project(source=str(CLIP), plan=make_plan("pingpong", 30, 300, 150, duration=4.0))
    path = save_project(project, tmp_path / "stale.navtalk.json")
    with qtbot.waitSignal(window.loop.plan_ready, timeout=60000) as blocker:
        window.open_project(path)
    assert blocker.args[0].source_frames == 216
    assert "does not fit this video" in window.message_bar.text()


def test_recent_files_menu(qtbot, window):
    window.open_path(CLIP)
    window.fill_recent_menu(window.actions.menus["recent"])
    actions = window.actions.menus["recent"].actions()
    assert actions and actions[0].text() == CLIP.name
