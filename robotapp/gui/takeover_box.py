"""The Evaluate page's take-over controls: T (or the button) takes the follower from the policy and gives it back;
who drives now, in words; on the virtual rig, whether the scripted corrector takes over by itself; whether the
episodes are recorded (with the taken-over frames flagged), which is the default."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

WHO = {"policy": "the policy drives",
       "aligning": "taken over: the follower holds; bring the leader onto it",
       "human": "you drive: the follower copies the leader (T hands back)"}
WHO_VIRTUAL = {**WHO, "aligning": "taken over: the virtual hand comes onto the follower",
               "human": "the virtual hand drives (the demonstrator; T hands back)"}


class TakeoverBox(QGroupBox):
    def __init__(self, parent=None):
        super().__init__("Take over (key T)", parent)
        self.button = QPushButton("Take over (T)")
        self.state = QLabel("no evaluation running")
        self.state.setWordWrap(True)
        self.corrector = QCheckBox("Scripted corrector (virtual rig)")
        self.corrector.setToolTip("it takes over when an episode goes wrong (cube not grasped by 8 s, pushed away, "
                                  "or dropped outside the zone): the demonstrator solves it from where the arm "
                                  "is, then hands back")
        self.record = QCheckBox("Record the episodes")
        self.record.setChecked(True)
        self.record.setToolTip("into a dataset of their own beside the training run (RUN/evals/<step>-<time>), "
                               "the taken-over frames flagged (feature 'intervention')")
        row = QHBoxLayout()
        row.addWidget(self.button)
        row.addWidget(self.state, 1)
        col = QVBoxLayout(self)
        col.addLayout(row)
        col.addWidget(self.corrector)
        col.addWidget(self.record)

    def show_job(self, job, virtual: bool) -> None:
        """Reflect a running job (None: none runs)."""
        if job is None:
            self.button.setEnabled(False)
            self.button.setText("Take over (T)")
            self.state.setText("no evaluation running")
            return
        control = job.control
        self.button.setEnabled(True)
        self.button.setText("Hand back (T)" if job.switch.wanted()[0] else "Take over (T)")
        self.state.setText((WHO_VIRTUAL if virtual else WHO)[control])
