import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MUJOCO_GL", "egl")

import tempfile  # noqa: E402

# Tests never read or write the user's calibrations and rig configs.
os.environ["ROBOTAPP_HOME"] = tempfile.mkdtemp(prefix="robotapp-test-home-")
