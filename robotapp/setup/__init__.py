"""Arm setup flows (find the port, set motor ids, calibrate, doctor) shared by the CLI and the GUI."""
