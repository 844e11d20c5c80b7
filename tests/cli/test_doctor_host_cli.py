"""`robotapp doctor --host` against `robotapp emulate` processes, as a user would point it at two arms: healthy
arms pass (exit 0), a 12 V supply on the leader, 5 V on the follower and a motor left out of the chain are each
one line (exit 1); a saved rig is checked arm by arm, and a rig whose arm is unplugged says so."""

import contextlib
import os
import signal
import subprocess
import sys

import pytest

from hardware.arms import load_profile
from hardware.rig_config import ArmConfig, RigConfig, save_rig
from robotapp.cli.main import main


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBOTAPP_HOME", str(tmp_path / "home"))


def _spec(role, without=()):
    return ",".join(f"{j.id}:{j.model}" for j in load_profile(f"koch-v1.1-{role}").joints if j.id not in without)


@contextlib.contextmanager
def emulate(*args):
    """A `robotapp emulate` process; yields its port once it has printed it."""
    proc = subprocess.Popen([sys.executable, "-m", "robotapp", "emulate", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        first = proc.stdout.readline().strip()
        assert first.startswith("port: /dev/pts/"), (first, proc.stderr.read() if proc.poll() is not None else "")
        yield first.removeprefix("port: ")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    assert proc.returncode == 0


def _doctor(capsys, *argv):
    code = main(["doctor", "--host", *argv])
    return code, capsys.readouterr().out.splitlines()


def test_healthy_arms_pass_and_a_swapped_supply_is_one_line_each(capsys):
    with emulate("--motors", _spec("leader")) as leader, emulate("--motors", _spec("follower")) as follower:
        code, out = _doctor(capsys, "--port", leader, "--profile", "koch-v1.1-leader")
        assert (code, out[-1]) == (0, "host: no problems found")
        assert out[0] == f"leader arm (port {leader}): 6 motors answer (ids 1, 2, 3, 4, 5, 6), supply 5.0 V (XL330)"
        code, out = _doctor(capsys, "--port", follower, "--profile", "koch-v1.1-follower")
        assert (code, out[-1]) == (0, "host: no problems found")
    with emulate("--motors", _spec("leader"), "--faults", "voltage=12.0") as leader, \
            emulate("--motors", _spec("follower"), "--faults", "voltage=5.0") as follower:
        code, out = _doctor(capsys, "--port", leader, "--profile", "koch-v1.1-leader")
        assert code == 1 and out[1:] == [
            f"leader arm (port {leader}): supply 12.0 V but its XL330 motors take 5 V: plug the 5 V supply into the "
            f"leader", "host: 1 problem found"]
        code, out = _doctor(capsys, "--port", follower, "--profile", "koch-v1.1-follower")
        assert code == 1 and out[1:] == [
            f"follower arm (port {follower}): supply 5.0 V but its XL430 motors take 12 V: plug the 12 V supply into "
            f"the follower", "host: 1 problem found"]


def test_a_saved_rig_names_the_arm_with_a_missing_motor(capsys):
    with emulate("--motors", _spec("leader")) as leader, emulate("--motors", _spec("follower", without={4})) as follower:
        save_rig(RigConfig("desk", [ArmConfig("leader", "koch-v1.1-leader", "desk-leader", leader),
                                    ArmConfig("follower", "koch-v1.1-follower", "desk-follower", follower)]))
        code, out = _doctor(capsys, "--rig", "desk")
    assert code == 1
    assert out[-2:] == [f"follower arm (port {follower}): motor id 4 (wrist_flex) does not answer: check its cable "
                        f"and that it was set up (robotapp setup-motors --rig desk --arm follower)",
                        "host: 1 problem found"]
    assert out[0].startswith(f"leader arm (port {leader}): 6 motors answer")


def test_an_unplugged_arm_of_a_saved_rig_is_a_finding_not_a_crash(capsys):
    save_rig(RigConfig("desk", [ArmConfig("follower", "koch-v1.1-follower", "desk-follower",
                                          serial_number="NOT-PLUGGED-IN")]))
    code, out = _doctor(capsys, "--rig", "desk")
    assert code == 1 and out[-1] == "host: 1 problem found"
    assert "no serial port with serial number 'NOT-PLUGGED-IN'" in out[0] and "robotapp find-port" in out[0]


def test_the_virtual_rig_passes(capsys):
    code, out = _doctor(capsys)
    assert (code, out[-1]) == (0, "host: no problems found")
    assert [line.split(" (port")[0] for line in out[:-1]] == ["leader arm", "follower arm"]


def test_host_and_inject_do_not_mix(capsys):
    assert main(["doctor", "--host", "--inject", "hot:gripper"]) == 2
    assert "--host checks the host as it is" in capsys.readouterr().err


def _so101_spec(without=()):
    return ",".join(f"{j.id}:{j.model}" for j in load_profile("so101-follower").joints if j.id not in without)


def test_an_emulated_so101_is_checked_with_its_own_bus_models_and_rates(capsys):
    """`robotapp emulate --protocol feetech` as an SO-101 follower: healthy, then each fault is one line naming the
    port, the motor and the fix."""
    argv = ("--profile", "so101-follower")
    with emulate("--protocol", "feetech", "--motors", _so101_spec()) as arm:
        code, out = _doctor(capsys, "--port", arm, *argv)
    assert (code, out) == (0, [f"follower arm (port {arm}): 6 motors answer (ids 1, 2, 3, 4, 5, 6), supply 7.4 V "
                               f"(STS3215)", "host: no problems found"])
    fix = "robotapp setup-motors --port {} --profile so101-follower"
    with emulate("--protocol", "feetech", "--motors", _so101_spec(without={4})) as arm:
        code, out = _doctor(capsys, "--port", arm, *argv)
    assert code == 1 and out[1:] == [f"follower arm (port {arm}): motor id 4 (wrist_flex) does not answer: check its "
                                     f"cable and that it was set up ({fix.format(arm)})", "host: 1 problem found"]
    with emulate("--protocol", "feetech", "--motors", "1:sts3215", "--baud", "500000") as arm:
        code, out = _doctor(capsys, "--port", arm, *argv)
    assert code == 1 and out == [f"follower arm (port {arm}): no motor answers at 1000000 bps, but id 1 (sts3215) at "
                                 f"500000 bps: set the motors up with `{fix.format(arm)}`", "host: 1 problem found"]
    with emulate("--protocol", "feetech", "--motors", _so101_spec(), "--faults", "voltage=12.0") as arm:
        code, out = _doctor(capsys, "--port", arm, *argv)
    assert code == 1 and out[1:] == [f"follower arm (port {arm}): supply 12.0 V but its STS3215 motors take 7.4 V: "
                                     f"plug the 7.4 V supply into the follower", "host: 1 problem found"]


def test_the_virtual_so101_rig_passes(capsys):
    code, out = _doctor(capsys, "--rig", "virtual-so101")
    assert (code, out[-1]) == (0, "host: no problems found")
    assert all(line.endswith("supply 7.4 V (STS3215)") for line in out[:-1]) and len(out) == 3
