"""The virtual leader's hand (virtual rig only): one slider per joint, jog keys, the scripted demonstrator, home
and a new scene. Sliders and labels are in the leader's calibrated units (degrees, gripper %), the values the
session reads and the plots draw. The sliders follow the leader when nobody drags them (the demonstrator, Home),
and a jog starts from where the leader is."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout

from ..common import MessageLine, error_text
from ..joint_units import format_value

# (increase, decrease) key per joint, on the left hand's home rows so the right hand stays on the arrows
JOG_KEYS = (("Q", "A"), ("W", "S"), ("E", "D"), ("R", "F"), ("T", "G"), ("Y", "H"))
JOG_STEP = 4.0  # degrees, or % for the gripper


class LeaderPanel(QGroupBox):
    def __init__(self, ctx, parent=None):
        super().__init__("Virtual leader (your hand on the virtual rig)", parent)
        self.ctx = ctx
        self.sliders: list[QSlider] = []
        self.values: list[QLabel] = []
        self._updating = False
        self._seed = 1
        grid = QGridLayout()
        for k, keys in enumerate(JOG_KEYS):
            name = QLabel(f"joint {k + 1}")
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # arrows are the recording keys, not slider steps
            slider.setToolTip("the virtual leader's joint in its calibrated units, as the plots show it")
            slider.valueChanged.connect(lambda v, k=k: self._slider_moved(k, v))
            value = QLabel("-")
            value.setMinimumWidth(44)
            grid.addWidget(name, k, 0)
            grid.addWidget(slider, k, 1)
            grid.addWidget(value, k, 2)
            grid.addWidget(QLabel(f"{keys[0]}/{keys[1]}"), k, 3)
            self.sliders.append(slider)
            self.values.append(value)
            setattr(self, f"_name{k}", name)
        self.demo_button = QPushButton("Demonstrator")
        self.demo_button.setToolTip("The scripted demonstrator picks the cube and places it, through the leader")
        self.demo_button.clicked.connect(self.start_demonstrator)
        self.home_button = QPushButton("Home")
        self.home_button.clicked.connect(self.home)
        self.scene_button = QPushButton("New scene")
        self.scene_button.setToolTip("Arm to rest, cube to a new random start")
        self.scene_button.clicked.connect(self.new_scene)
        buttons = QHBoxLayout()
        for b in (self.demo_button, self.home_button, self.scene_button):
            buttons.addWidget(b)
        self.message = MessageLine()
        help_line = QLabel("Jog: Q/A … Y/H move joints 1–6 (click the page first)")
        help_line.setStyleSheet("color: #555;")
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(help_line)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        self.timer = QTimer(self, interval=100, timeout=self.follow)
        self.timer.start()
        self._named = None

    @property
    def leader(self):
        return self.ctx.host.virtual_leader

    def _setup_names(self) -> None:
        leader = self.leader
        if leader is None or self._named is leader:  # a rig opened again has a hand (and calibration) of its own
            return
        for k, (name, (lo, hi)) in enumerate(zip(leader.joint_names, leader.unit_ranges(), strict=True)):
            getattr(self, f"_name{k}").setText(name)
            self.sliders[k].setRange(int(np.ceil(lo)), int(np.floor(hi)))
        self._named = leader

    def follow(self) -> None:
        """Sliders show where the leader is, except the one being dragged."""
        leader = self.leader
        if leader is None:
            return
        q = leader.positions()
        self._updating = True  # also while the ranges are set: a clamped value is no command to the hand
        try:
            self._setup_names()
            for k, slider in enumerate(self.sliders):
                if not slider.isSliderDown():
                    slider.setValue(int(round(q[k])))
                self.values[k].setText(format_value(q[k], leader.units[k]))
        finally:
            self._updating = False
        if leader.demonstrating:
            played, duration = leader.demo_progress()
            self.demo_button.setText(f"Demonstrator {played:.0f}/{duration:.0f} s")
        else:
            self.demo_button.setText("Demonstrator")

    def _slider_moved(self, k: int, value: int) -> None:
        if self._updating or self.leader is None:
            return
        self.leader.set_position(k, float(value))

    def jog(self, k: int, direction: int) -> None:
        if self.leader is not None and self.isEnabled() and self.isVisible():  # keys act on the page shown
            self.leader.jog(k, direction * JOG_STEP)

    def home(self) -> None:
        if self.leader is not None:
            self.leader.home()
            self.message.info("home: the leader moves back to its rest pose")

    def start_demonstrator(self) -> None:
        if self.leader is None:
            return
        self.message.info("planning the demonstration…")
        self.ctx.watcher.watch(self.leader.start_demonstrator(),
                               lambda d: self.message.info(f"demonstrator: {d:.0f} s pick-and-place on the leader"),
                               lambda e: self.message.error(f"Demonstrator: {error_text(e)}"))

    def new_scene(self) -> None:
        if self.leader is None:
            return
        self._seed += 1
        self.ctx.watcher.watch(self.leader.reset_world(self._seed),
                               lambda _: self.message.info(f"new scene (seed {self._seed}): the arm at rest, "
                                                           f"the cube at a new start"),
                               lambda e: self.message.error(f"New scene: {error_text(e)}"))
