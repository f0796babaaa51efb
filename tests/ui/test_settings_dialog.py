"""The settings dialog: keys go to the keyring (or this session only), never to the settings file."""

from __future__ import annotations

import keyring
import pytest
from keyring_helpers import MemoryKeyring
from navtalk_desktop.core import secrets
from navtalk_desktop.core.settings import Settings, load_settings, save_settings, settings_path
from navtalk_desktop.ui.settings_dialog import SettingsDialog


@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)
    secrets.clear_session_credentials()


@pytest.fixture
def no_keyring():
    from keyring.backends.fail import Keyring as FailKeyring

    previous = keyring.get_keyring()
    keyring.set_keyring(FailKeyring())
    yield
    keyring.set_keyring(previous)
    secrets.clear_session_credentials()


def test_keys_saved_in_keyring_not_in_settings(qtbot, memory_keyring):
    settings = Settings()
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    dialog.access_edit.setText("AK-test-1234")
    dialog.secret_edit.setText("SK-very-secret-5678")
    dialog.base_url_edit.setText("http://127.0.0.1:9")
    dialog.region_box.setCurrentIndex(dialog.region_box.findData("beijing"))
    dialog.accept()
    assert memory_keyring.store[("navtalk_desktop", "kling_secret_key")] == "SK-very-secret-5678"
    creds = secrets.load_credentials()
    assert creds.source == "keyring" and creds.access_key == "AK-test-1234"
    assert settings.base_url == "http://127.0.0.1:9" and settings.region == "beijing"
    save_settings(settings)
    text = settings_path().read_text()
    assert "SK-very-secret-5678" not in text and "AK-test-1234" not in text
    assert "SK-very-secret" not in repr(creds)
    assert dialog.access_edit.text() == ""  # fields are cleared once stored


def test_without_keyring_offers_session_only(qtbot, no_keyring):
    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    assert "unavailable" in dialog.key_status_label.text()
    offered = []
    dialog.ask_session_only = lambda reason: offered.append(reason) or True
    dialog.api_edit.setText("api-key-for-this-run")
    assert dialog.save_keys()
    assert offered and "keyring" in offered[0]
    assert "this session only" in dialog.keys_message.text()
    creds = secrets.load_credentials()
    assert creds.source == "session" and creds.api_key == "api-key-for-this-run"


def test_incomplete_keys_are_refused(qtbot, memory_keyring):
    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    dialog.access_edit.setText("only-the-access-key")
    dialog.accept()
    assert dialog.result() == 0  # still open
    assert "secret key" in dialog.keys_message.text()
    assert not memory_keyring.store


def test_window_settings_switch_demo_mode_and_defaults(qtbot, make_window, memory_keyring, monkeypatch):
    window = make_window(Settings())
    assert "No Kling keys" in window.generate_panel.keys_label.text()

    def fake_exec(dialog):
        dialog.demo_check.setChecked(True)
        dialog.strategy_box.setCurrentIndex(dialog.strategy_box.findData("crossfade"))
        dialog.format_box.setCurrentIndex(dialog.format_box.findData("webm"))
        dialog.model_box.setCurrentIndex(dialog.model_box.findData("kling-v1-6"))
        dialog.accept()
        return True

    monkeypatch.setattr(SettingsDialog, "exec", fake_exec)
    window.open_settings()
    assert window.settings.demo_mode and window.generate_panel.demo_check.isChecked()
    assert "Demo mode" in window.generate_panel.keys_label.text()
    assert load_settings().export_strategy == "crossfade"  # saved at once
    # the new defaults show in the panels at once...
    assert window.export_panel.settings().strategy == "crossfade"
    assert window.export_panel.settings().format == "webm"
    assert window.generate_panel.settings().model == "kling-v1-6"
    # ...and survive closing the window (which saves the Export panel's choices as the next defaults)
    window.close()
    saved = load_settings()
    assert (saved.export_strategy, saved.export_format, saved.default_model) == ("crossfade", "webm", "kling-v1-6")


def test_new_loop_defaults_replan_the_open_video(qtbot, analysed_window, monkeypatch):
    window = analysed_window
    doc = window.document

    def fake_exec(dialog):
        dialog.strategy_box.setCurrentIndex(dialog.strategy_box.findData("pingpong"))
        dialog.export_duration.setValue(3.0)
        dialog.accept()
        return True

    monkeypatch.setattr(SettingsDialog, "exec", fake_exec)
    before = doc.plan
    window.open_settings()
    assert doc.plan.strategy == "pingpong" and abs(doc.plan.duration - 3.0) < 0.1
    assert doc.plan.loop_point == before.loop_point
    doc.undo_stack.undo()  # an ordinary, undoable plan edit
    assert doc.plan == before
