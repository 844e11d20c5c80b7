import pytest

from hardware.arms import Arm, load_profile
from hardware.motors import DynamixelBus
from hardware.virtual.arms import VirtualArm


class VirtualRigArm:
    """A virtual arm and the Arm that drives it through a real DynamixelBus."""

    def __init__(self, profile_name: str, clock=None):
        self.profile = load_profile(profile_name)
        self.hw = VirtualArm(self.profile, **({"clock": clock} if clock else {}))
        self.bus = DynamixelBus(self.hw.port, self.profile.motors, latency_ms=1.0)
        self.bus.connect()
        self.arm = Arm(self.profile, self.bus)

    def close(self):
        self.bus.disconnect()
        self.hw.close()


@pytest.fixture
def follower():
    rig = VirtualRigArm("koch-v1.1-follower")
    yield rig
    rig.close()


@pytest.fixture
def leader():
    rig = VirtualRigArm("koch-v1.1-leader")
    yield rig
    rig.close()


@pytest.fixture(autouse=True)
def _user_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBOTAPP_HOME", str(tmp_path / "home"))
