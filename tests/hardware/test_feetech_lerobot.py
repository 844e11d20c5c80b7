"""lerobot's own FeetechMotorsBus (in lerobot's virtual env, never a dependency of ours) against the Feetech emulator
on a pty: a third-party client that checks firmware versions and model numbers on connect, broadcast-pings, encodes
sign-magnitude values itself and ties torque to the EEPROM lock."""

import json
import subprocess

import pytest

from hardware.virtual import FeetechChain, PtyServer
from tests.dataset.lerobot_env import lerobot_python

CLIENT = r"""
import json, sys
from lerobot.motors import Motor, MotorNormMode
from lerobot.motors.feetech import FeetechMotorsBus
names = ["shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper"]
bus = FeetechMotorsBus(sys.argv[1], {n: Motor(i, "sts3215", MotorNormMode.RANGE_M100_100)
                                     for i, n in enumerate(names, 1)})
bus.connect()
out = {"pos": bus.sync_read("Present_Position", normalize=False)}
bus.disable_torque()
bus.write("Homing_Offset", "wrist_flex", -300, normalize=False)
out["offset"] = bus.read("Homing_Offset", "wrist_flex", normalize=False)
out["pos_after"] = bus.read("Present_Position", "wrist_flex", normalize=False)
bus.sync_write("Goal_Velocity", {"gripper": -200, "wrist_roll": 300}, normalize=False)
out["ping"] = bus.broadcast_ping()
bus.enable_torque()
bus.disconnect(disable_torque=False)
print(json.dumps(out))
"""


def _lerobot_with_feetech() -> str | None:
    python = lerobot_python()
    if python is None:
        return None
    ok = subprocess.run([python, "-c", "import scservo_sdk, lerobot.motors.feetech"], capture_output=True)
    return python if ok.returncode == 0 else None


LEROBOT = _lerobot_with_feetech()


@pytest.mark.skipif(LEROBOT is None, reason="needs lerobot 0.4.4 with feetech-servo-sdk in LEROBOT_PYTHON's env "
                                            "(`pip install feetech-servo-sdk` there)")
def test_lerobots_feetech_bus_on_the_emulator():
    chain = FeetechChain(",".join(f"{i}:sts3215" for i in range(1, 7)), wire_timing=True)
    with PtyServer(chain) as server:
        run = subprocess.run([LEROBOT, "-c", CLIENT, server.path], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout)
    assert set(out["pos"].values()) == {2048}
    assert out["offset"] == -300 and chain.servo(4).get("Homing_Offset") == -300
    assert out["pos_after"] == 2348  # lerobot's Present = actual - offset, as the STS firmware reads
    assert chain.servo(6).get("Goal_Velocity") == -200 and chain.servo(5).get("Goal_Velocity") == 300
    assert out["ping"] == {str(i): 777 for i in range(1, 7)}
    assert all(s.torque_on and s.locked for s in chain.servos)
