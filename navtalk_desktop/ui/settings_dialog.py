"""Settings: Kling keys (OS keyring, or this session only), server, generation and export defaults.

Keys go straight to core/secrets.py and are never written to the settings file. Where no keyring exists
(headless Linux), the dialog says so and offers to keep the keys in memory for this run only.
"""

from __future__ import annotations

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout,
                               QGroupBox, QHBoxLayout, QLabel, QLineEdit, QMessageBox, QPushButton, QVBoxLayout,
                               QWidget)

from ..core.errors import NavTalkError
from ..core.kling.capabilities import MODELS, MODES
from ..core.settings import Settings
from .export_panel import FORMATS, QUALITIES, STRATEGIES

REGIONS = (("global", "Global (Singapore)"), ("beijing", "China (Beijing)"), ("legacy", "Legacy (api.klingai.com)"))


def _combo(items, current: str) -> QComboBox:
    box = QComboBox()
    for value, label in items:
        box.addItem(label, value)
    index = box.findData(current)
    box.setCurrentIndex(max(0, index))
    return box


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.settings = settings
        self.ask_session_only = self._ask_session_only  # replaceable in tests
        layout = QVBoxLayout(self)

        keys = QGroupBox("Kling keys")
        kl = QVBoxLayout(keys)
        self.key_status_label = QLabel()
        self.key_status_label.setWordWrap(True)
        kl.addWidget(self.key_status_label)
        form = QFormLayout()
        self.access_edit = QLineEdit()
        self.secret_edit = QLineEdit()
        self.api_edit = QLineEdit()
        for edit in (self.access_edit, self.secret_edit, self.api_edit):
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.setPlaceholderText("unchanged")
        form.addRow("Access key", self.access_edit)
        form.addRow("Secret key", self.secret_edit)
        form.addRow("or API key", self.api_edit)
        kl.addLayout(form)
        row = QHBoxLayout()
        self.save_keys_button = QPushButton("Save keys")
        self.save_keys_button.setToolTip("Store the keys in the OS keyring (never in the settings file)")
        self.session_keys_button = QPushButton("Use for this session only")
        self.clear_keys_button = QPushButton("Remove stored keys")
        self.save_keys_button.clicked.connect(self.save_keys)
        self.session_keys_button.clicked.connect(self.use_keys_for_session)
        self.clear_keys_button.clicked.connect(self.clear_keys)
        for b in (self.save_keys_button, self.session_keys_button, self.clear_keys_button):
            row.addWidget(b)
        kl.addLayout(row)
        self.keys_message = QLabel()
        self.keys_message.setWordWrap(True)
        kl.addWidget(self.keys_message)
        layout.addWidget(keys)

        server = QGroupBox("Server")
        sf = QFormLayout(server)
        self.region_box = _combo(REGIONS, settings.region)
        self.base_url_edit = QLineEdit(settings.base_url)
        self.base_url_edit.setPlaceholderText("empty = the region's Kling server")
        self.demo_check = QCheckBox("Demo mode: generate with the local simulator (offline)")
        self.demo_check.setChecked(settings.demo_mode)
        sf.addRow("Region", self.region_box)
        sf.addRow("Base URL", self.base_url_edit)
        sf.addRow("", self.demo_check)
        layout.addWidget(server)

        defaults = QGroupBox("Defaults")
        df = QFormLayout(defaults)
        self.model_box = _combo([(m, m) for m in MODELS], settings.default_model)
        self.mode_box = _combo([(m, m) for m in MODES], settings.default_mode)
        self.duration_edit = QLineEdit(settings.default_duration)
        self.strategy_box = _combo(STRATEGIES, settings.export_strategy)
        self.export_duration = QDoubleSpinBox()
        self.export_duration.setRange(0.5, 30.0)
        self.export_duration.setSuffix(" s")
        self.export_duration.setValue(settings.export_duration)
        self.format_box = _combo(FORMATS, settings.export_format)
        self.quality_box = _combo(QUALITIES, settings.export_quality)
        self.reopen_check = QCheckBox("Reopen the last project on start")
        self.reopen_check.setChecked(settings.reopen_last_project)
        df.addRow("Kling model", self.model_box)
        df.addRow("Kling mode", self.mode_box)
        df.addRow("Clip length (s)", self.duration_edit)
        df.addRow("Loop strategy", self.strategy_box)
        df.addRow("Loop duration", self.export_duration)
        df.addRow("Export format", self.format_box)
        df.addRow("Export quality", self.quality_box)
        df.addRow("", self.reopen_check)
        layout.addWidget(defaults)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.refresh_key_status()

    # --- keys --------------------------------------------------------------------------------------------------------
    def _entered(self) -> dict:
        values = {"access_key": self.access_edit.text().strip() or None,
                  "secret_key": self.secret_edit.text().strip() or None,
                  "api_key": self.api_edit.text().strip() or None}
        if not values["api_key"] and not (values["access_key"] and values["secret_key"]):
            raise NavTalkError("enter both the access key and the secret key, or an API key")
        return values

    def _clear_fields(self) -> None:
        for edit in (self.access_edit, self.secret_edit, self.api_edit):
            edit.clear()

    def refresh_key_status(self) -> None:
        from ..core.secrets import key_status

        self.key_status_label.setText(key_status().describe())

    def save_keys(self) -> bool:
        from ..core.secrets import SecretStoreUnavailable, set_session_credentials, store_in_keyring

        try:
            values = self._entered()
        except NavTalkError as exc:
            self.keys_message.setText(f"⚠ {exc}.")
            return False
        try:
            store_in_keyring(**values)
        except SecretStoreUnavailable as exc:
            self.keys_message.setText(f"⚠ {exc}.")
            if not self.ask_session_only(str(exc)):
                return False
            set_session_credentials(**values)
            self.keys_message.setText("Keys kept for this session only (they are gone when the app quits).")
        else:
            self.keys_message.setText("✓ Keys saved in the OS keyring.")
        self._clear_fields()
        self.refresh_key_status()
        return True

    def use_keys_for_session(self) -> bool:
        from ..core.secrets import set_session_credentials

        try:
            set_session_credentials(**self._entered())
        except NavTalkError as exc:
            self.keys_message.setText(f"⚠ {exc}.")
            return False
        self._clear_fields()
        self.keys_message.setText("Keys kept for this session only (they are gone when the app quits).")
        self.refresh_key_status()
        return True

    def clear_keys(self) -> None:
        from ..core.secrets import SecretStoreUnavailable, clear_keyring, clear_session_credentials

        clear_session_credentials()
        try:
            clear_keyring()
            self.keys_message.setText("Stored keys removed.")
        except SecretStoreUnavailable as exc:
            self.keys_message.setText(f"Session keys removed; {exc}.")
        self.refresh_key_status()

    def _ask_session_only(self, reason: str) -> bool:
        answer = QMessageBox.question(self, "No keyring", f"{reason}.\n\nKeep the keys for this session only?")
        return answer == QMessageBox.StandardButton.Yes

    # --- apply -------------------------------------------------------------------------------------------------------
    def accept(self) -> None:
        if any(e.text().strip() for e in (self.access_edit, self.secret_edit, self.api_edit)):
            if not self.save_keys():
                return
        base_url = self.base_url_edit.text().strip()
        if base_url:
            from ..core.kling.client import resolve_base_url

            try:
                base_url = resolve_base_url(None, base_url)
            except NavTalkError as exc:
                self.keys_message.setText(f"⚠ {exc}.")
                return
        s = self.settings
        s.region = self.region_box.currentData()
        s.base_url = base_url
        s.demo_mode = self.demo_check.isChecked()
        s.default_model = self.model_box.currentData()
        s.default_mode = self.mode_box.currentData()
        s.default_duration = self.duration_edit.text().strip() or s.default_duration
        s.export_strategy = self.strategy_box.currentData()
        s.export_duration = float(self.export_duration.value())
        s.export_format = self.format_box.currentData()
        s.export_quality = self.quality_box.currentData()
        s.reopen_last_project = self.reopen_check.isChecked()
        super().accept()
