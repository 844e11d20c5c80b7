"""Services for the front ends: long-lived objects a window (or a script) drives off its own thread: the open
rig and its session, setup flows, calibration and doctor runs, recording requests, the virtual leader's hand."""
