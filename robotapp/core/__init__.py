"""The control core: the Session that owns one rig, its modes, the control loop, recording, replay and
policy sources, events and telemetry, and opening rigs and arms. Qt-free, no terminal."""
