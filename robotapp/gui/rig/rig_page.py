"""Rig page: choose a profile (a virtual Koch or SO-101, a Koch v1.1, an SO-101, or custom profile files), then
the setup tabs:
ports (USB identity, identify by unplugging), cameras (thumbnails, role names), motors (scan, setup wizard),
calibration (live range bars, the wrap warning) and the doctor; save the rig config and open it.

On a real rig the wizards need the arms' ports, which the open session holds: they close the rig first (and say
so). On the virtual rig they work on emulated arms of their own, so teleop can go on beside them."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QTabWidget,
    QVBoxLayout,
)

from hardware.arms.profile import ARM_PROFILES
from robotapp.core.field_error import FieldError
from robotapp.core.rig_opener import VIRTUAL_RIGS, is_virtual_rig
from robotapp.gui.common import MessageLine, error_text
from robotapp.gui.page import Page
from robotapp.gui.rig.calibration_tab import CalibrationTab
from robotapp.gui.rig.cameras_tab import CamerasTab
from robotapp.gui.rig.doctor_tab import DoctorTab
from robotapp.gui.rig.motors_tab import MotorsTab
from robotapp.gui.rig.ports_tab import PortsTab
from robotapp.services.rig_config_form import ArmChoice, build_rig_config, rig_config_exists, save_rig_config

# label -> kind: a virtual rig's name (robotapp.core.rig_opener.VIRTUAL_RIGS), an arm family, or "custom"
PROFILES = {"Virtual rig (Koch v1.1)": "virtual", "Virtual SO-101": "virtual-so101", "Koch v1.1": "koch",
            "SO-101": "so101", "Custom profile files": "custom"}
DEFAULT_NAMES = {"koch": "koch-desk", "so101": "so101-desk"}


class RigPage(Page):
    open_requested = Signal(str)  # the main window opens the rig (it owns the host's lifecycle messages)

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.profile = QComboBox()
        self.profile.addItems(list(PROFILES))
        self.rig_name = QLineEdit("koch-desk")
        self.rig_name.setMaximumWidth(220)
        self.leader_file = QLineEdit()
        self.follower_file = QLineEdit()
        self.leader_file.setPlaceholderText("leader profile .json")
        self.follower_file.setPlaceholderText("follower profile .json")
        self._file_rows = []
        top = QHBoxLayout()  # one row: the page's room goes to the setup tabs below
        top.addWidget(QLabel("Profile"))
        top.addWidget(self.profile)
        top.addSpacing(12)
        top.addWidget(QLabel("Rig name"))
        top.addWidget(self.rig_name)
        form = QFormLayout()
        for label, edit in (("Leader profile", self.leader_file), ("Follower profile", self.follower_file)):
            browse = QPushButton("Browse…")
            browse.clicked.connect(lambda _=False, e=edit: self._browse(e))
            row = QHBoxLayout()
            row.addWidget(edit, 1)
            row.addWidget(browse)
            form.addRow(label, row)
            self._file_rows.append((form.labelForField(row), edit, browse))
        self.open_button = QPushButton("Open this rig")
        self.save_button = QPushButton("Save rig config")
        self.open_button.clicked.connect(self.open_rig)
        self.save_button.clicked.connect(self.save_config)
        top.addSpacing(12)
        top.addWidget(self.open_button)
        top.addWidget(self.save_button)
        top.addStretch(1)
        self.state = QLabel()
        self.message = MessageLine()
        box = QGroupBox("Rig")
        box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        bl = QVBoxLayout(box)
        bl.addLayout(top)
        bl.addLayout(form)
        status = QHBoxLayout()
        status.addWidget(self.state)
        status.addWidget(self.message, 1)
        bl.addLayout(status)

        self.tabs = QTabWidget()
        self.ports = PortsTab(self)
        self.cameras = CamerasTab(self)
        self.motors = MotorsTab(self)
        self.calibration = CalibrationTab(self)
        self.doctor = DoctorTab(self)
        for tab, title in ((self.ports, "Ports"), (self.cameras, "Cameras"), (self.motors, "Motors"),
                           (self.calibration, "Calibration"), (self.doctor, "Doctor")):
            self.tabs.addTab(tab, title)
        layout = QVBoxLayout(self)
        layout.addWidget(box)
        layout.addWidget(self.tabs, 1)
        self.profile.currentTextChanged.connect(self._profile_changed)
        self._restore()
        self._profile_changed()
        self.timer = QTimer(self, interval=500, timeout=self.refresh_state)
        self.timer.start()

    # -- profile ------------------------------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return PROFILES[self.profile.currentText()]

    @property
    def is_virtual(self) -> bool:
        return is_virtual_rig(self.kind)

    def set_profile(self, kind: str) -> None:
        self.profile.setCurrentText(next(k for k, v in PROFILES.items() if v == kind))

    def _profile_changed(self, *_):
        custom = self.kind == "custom"
        for label, edit, browse in self._file_rows:
            for w in (label, edit, browse):
                w.setVisible(custom)
        name = self.rig_name.text().strip()
        if self.kind in DEFAULT_NAMES and name in DEFAULT_NAMES.values():  # the other family's suggestion
            self.rig_name.setText(DEFAULT_NAMES[self.kind])
        self.rig_name.setEnabled(not self.is_virtual)
        self.save_button.setEnabled(not self.is_virtual)
        self.message.clear()
        for tab in (self.ports, self.cameras, self.motors, self.calibration, self.doctor):
            tab.profile_changed()

    def _browse(self, edit: QLineEdit) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Arm profile", edit.text(), "Arm profile (*.json)")
        if path:
            edit.setText(path)

    def profile_for(self, role: str) -> str:
        if self.kind == "custom":
            return (self.leader_file if role == "leader" else self.follower_file).text().strip()
        arm = VIRTUAL_RIGS.get(self.kind, self.kind)  # a virtual rig's arm, or the family chosen
        return ARM_PROFILES[arm][0 if role == "leader" else 1]

    def setup_target(self, role: str) -> dict:
        """Where a wizard finds this arm: the virtual rig, or the port chosen in the Ports tab + the profile.
        Raises FieldError naming the field to fix."""
        if self.is_virtual:
            return {"rig": self.kind, "port": None, "profile": self.profile_for(role), "arm_id": None}
        port = self.ports.chosen(role)
        if port is None:
            raise FieldError(f"{role.capitalize()} port", f"choose the {role}'s port in the Ports tab")
        name = self.rig_name.text().strip() or "rig"
        return {"rig": "manual", "port": port.device, "profile": self.profile_for(role), "arm_id": f"{name}-{role}"}

    def release_hardware(self, then) -> None:
        """Wizards need the arms' ports: a real rig's session gives them up first (the virtual rig keeps running:
        its wizards use emulated arms of their own)."""
        host = self.ctx.host
        if host.is_open and not host.is_virtual:
            self.message.info(f"closing rig {host.rig_name!r} so the wizard can use its ports")
            self.ctx.watcher.watch(host.close(), lambda _: then(), lambda e: self.message.error(error_text(e)))
        else:
            then()

    # -- config -------------------------------------------------------------------------------------------------
    def build_config(self):
        arms = [ArmChoice(role, self.profile_for(role), self.ports.chosen(role)) for role in ("leader", "follower")]
        return build_rig_config(self.rig_name.text(), arms, self.cameras.rows())

    def save_config(self) -> bool:
        try:
            path = save_rig_config(self.build_config())
        except (FieldError, OSError) as e:
            self.message.error(error_text(e))
            return False
        self.message.info(f"rig config saved to {path}")
        return True

    def open_rig(self) -> None:
        if self.is_virtual:
            self.open_requested.emit(self.kind)
            return
        name = self.rig_name.text().strip()
        if not rig_config_exists(name) and not self.save_config():
            return
        self.open_requested.emit(name)

    # -- window hooks -------------------------------------------------------------------------------------------
    def on_rig_opened(self) -> None:
        self.ports.refresh()
        self.cameras.refresh()

    def refresh_state(self) -> None:
        host = self.ctx.host
        cams = ", ".join(host.camera_names()) or "none"
        self.state.setText(f"open: {host.rig_name} · cameras: {cams}" if host.is_open else f"rig {host.state}")

    def _restore(self) -> None:
        s = self.ctx.settings
        kind = s.value("rig/profile")
        if kind in PROFILES.values():
            self.set_profile(kind)
        self.rig_name.setText(str(s.value("rig/name", self.rig_name.text())))
        self.leader_file.setText(str(s.value("rig/leader_file", "")))
        self.follower_file.setText(str(s.value("rig/follower_file", "")))

    def save_settings(self, settings) -> None:
        settings.setValue("rig/profile", self.kind)
        settings.setValue("rig/name", self.rig_name.text())
        settings.setValue("rig/leader_file", self.leader_file.text())
        settings.setValue("rig/follower_file", self.follower_file.text())

    def shutdown(self) -> None:
        for tab in (self.motors, self.calibration):
            tab.shutdown()
