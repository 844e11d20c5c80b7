"""Setting an SO-101 (Feetech STS3215) arm up, on the emulated STS servos: setup-motors on a bench of factory-new
motors (id 1 at 1000000 bps) gives each its id and baud rate for good (a power cycle keeps them), and refuses a
wrong model, two motors on the wire at once or no motor at all in one line; the window's motor scan names the
joints; the host check finds a missing, shared or misplaced id, a wrong model, the wrong baud rate and a swapped
supply; emulator ids, calibration files and injected faults follow the family."""

import dataclasses
import json

import pytest

from calibration import CalibrationFileError, load_calibration
from calibration.doctor import health_table
from hardware.arms import load_profile
from hardware.host_check import check_motors
from hardware.motors import FeetechBus, feetech_tables
from hardware.virtual import FaultConfig, FeetechChain, parse_motor_spec, serve_inprocess
from hardware.virtual.arms import VirtualArm
from robotapp.cli.main import main
from robotapp.services.hardware_scan import scan_motors
from robotapp.setup import flows
from robotapp.setup.flows import SetupError
from robotapp.setup.virtual_ops import MotorBench, parse_injections

FOLLOWER = load_profile("so101-follower")
LEADER = load_profile("so101-leader")
SPEC = ",".join(f"{j.id}:{j.model}" for j in FOLLOWER.joints)


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBOTAPP_HOME", str(tmp_path / "home"))


def _setup(bench, profile, lines=None, baudrates=None):
    out = lines if lines is not None else []
    return flows.setup_motors(bench.operator(out=out.append), bench.port, profile,
                              baudrates=baudrates or [1_000_000], latency_ms=1.0)


# ------------------------------------------------------------------ setup-motors
def test_each_factory_new_sts3215_gets_its_id_and_keeps_it_over_a_power_cycle():
    assert FOLLOWER.servo_family.factory_baudrate == FOLLOWER.baudrate == 1_000_000
    bench = MotorBench(FOLLOWER)
    lines = []
    try:
        done = _setup(bench, FOLLOWER, lines)
    finally:
        bench.close()
    assert done == [(j.name, j.id, 1_000_000) for j in reversed(FOLLOWER.joints)]
    assert "'gripper' is ready: id 6 at 1000000 bps (was id 1 at 1000000 bps)" in lines
    for j in FOLLOWER.joints:
        (servo,) = bench.configured[j.name].servos
        servo.reboot(0.0)  # EEPROM back to what was saved: written under Lock 0, so the id stays
        assert (servo.id, servo.baud_value, servo.get("Lock")) == (j.id, 0, 1)


def test_a_profile_at_another_rate_gets_the_motors_moved_there_for_good():
    slow = dataclasses.replace(FOLLOWER, baudrate=500_000)
    bench = MotorBench(slow)
    try:
        done = _setup(bench, slow, baudrates=[1_000_000, 500_000])
    finally:
        bench.close()
    assert [bps for _, _, bps in done] == [500_000] * 6
    for j in slow.joints:
        (servo,) = bench.configured[j.name].servos
        servo.reboot(0.0)
        assert (servo.id, feetech_tables.BAUD_TABLE[servo.baud_value]) == (j.id, 500_000)


def test_setup_motors_cli_runs_on_the_virtual_so101_bench(capsys):
    assert main(["setup-motors", "--rig", "virtual-so101", "--arm", "leader"]) == 0
    out = capsys.readouterr().out
    for j in LEADER.joints:
        assert f"'{j.name}' is ready: id {j.id} at 1000000 bps (was id 1 at 1000000 bps)" in out
    assert "(sts3215)" in out


def test_a_wrong_model_is_one_line_and_nothing_is_written():
    bench = MotorBench(FOLLOWER)
    operator = bench.operator(out=lambda _: None)

    def connect_other():
        bench.connect("gripper").servos[0].set("Model_Number", 2825)  # another STS model, not in the profile

    operator.actions["connect:gripper"] = connect_other
    try:
        with pytest.raises(SetupError) as e:
            flows.setup_motors(operator, bench.port, FOLLOWER, baudrates=[1_000_000], latency_ms=1.0)
    finally:
        bench.close()
    assert str(e.value) == ("'gripper': expected a sts3215, found an unknown Feetech model 2825 (id 1 at 1000000 "
                            "bps): connect the sts3215 that goes there")
    assert bench.configured["gripper"].servos[0].id == 1


def test_two_factory_new_motors_on_the_wire_are_refused_before_both_take_the_id():
    bench = MotorBench(FOLLOWER, box={"gripper": ["sts3215", "sts3215"]})
    try:
        with pytest.raises(SetupError) as e:
            _setup(bench, FOLLOWER)
    finally:
        bench.close()
    assert str(e.value) == "'gripper': 2 motors answer at id 1 (1000000 bps): connect only the 'gripper' motor"
    assert [s.id for s in bench.configured["gripper"].servos] == [1, 1]


def test_two_motors_at_different_ids_are_named():
    bench = MotorBench(FOLLOWER)
    operator = bench.operator(out=lambda _: None)
    operator.actions["connect:gripper"] = lambda: setattr(bench.link, "chain", FeetechChain("1:sts3215,6:sts3215"))
    try:
        with pytest.raises(SetupError) as e:
            flows.setup_motors(operator, bench.port, FOLLOWER, baudrates=[1_000_000], latency_ms=1.0)
    finally:
        bench.close()
    assert str(e.value) == ("'gripper': found 2 motors (id 1 (sts3215) at 1000000 bps, id 6 (sts3215) at 1000000 "
                            "bps); connect only one")


def test_no_motor_names_the_rates_tried():
    bench = MotorBench(FOLLOWER, box={"gripper": []})
    try:
        with pytest.raises(SetupError) as e:
            _setup(bench, FOLLOWER, baudrates=[1_000_000, 500_000])
    finally:
        bench.close()
    assert str(e.value) == (f"'gripper': no motor answers on {bench.port} at any Feetech baud rate (1000000, "
                            f"500000); check the cable and the power supply")


def test_the_koch_bench_refuses_two_factory_new_motors_too():
    koch = load_profile("koch-v1.1-follower")
    bench = MotorBench(koch, box={"gripper": ["xl330-m288", "xl330-m288"]})
    try:
        with pytest.raises(SetupError, match=r"^'gripper': 2 motors answer at id 1 \(57600 bps\): connect only"):
            _setup(bench, koch, baudrates=[57_600, 1_000_000])
    finally:
        bench.close()


# ------------------------------------------------------------------ the window's motor scan
def test_scan_motors_on_a_virtual_so101_names_the_joints():
    rows = scan_motors("so101-follower", None)
    assert [(r.baudrate, r.id, r.model, r.joint, r.problem) for r in rows] == [
        (1_000_000, j.id, "sts3215", j.name, "") for j in FOLLOWER.joints]


def test_scan_motors_flags_a_stray_id_and_a_motor_at_another_rate():
    for chain, rates, expected in (
            (FeetechChain("1:sts3215,9:sts3215"), None,
             [(1, "shoulder_pan", ""), (9, "", "id 9 is not in profile so101-follower")]),
            (FeetechChain("2:sts3215", baudrate=500_000), [500_000, 1_000_000],
             [(2, "shoulder_lift", "at 500000 bps, the profile wants 1000000: run the setup")])):
        link = serve_inprocess(chain)
        try:
            rows = scan_motors("so101-follower", link.url, rates)
        finally:
            link.close()
        assert [(r.id, r.joint, r.problem) for r in rows] == expected
        assert {r.model for r in rows} == {"sts3215"}


# ------------------------------------------------------------------ the host check
def _check(chain, profile=FOLLOWER):
    link = serve_inprocess(chain)
    try:
        problems, notes = check_motors(link.url, profile, latency_ms=1.0)
    finally:
        link.close()
    label = f"{profile.role} arm (port {link.url})"
    return [p.line.removeprefix(label + ": ") for p in problems], [n.removeprefix(label + ": ") for n in notes]


def test_the_broadcast_ping_keeps_every_reply_and_counts_broken_ones():
    chain = FeetechChain(SPEC, faults=FaultConfig.parse("corrupt_crc=1.0,seed=1"))
    link = serve_inprocess(chain)
    bus = FeetechBus(link.url, latency_ms=1.0)
    bus.connect(handshake=False)
    try:
        assert bus.ping_replies() == ([], 6)  # six replies, each with a bad checksum
        chain.set_faults(None)
        chain.servo(5).set("ID", 4)
        assert bus.ping_replies() == ([1, 2, 3, 4, 4, 6], 0)
        assert (bus.model_number(4), bus.model_number(9)) == (777, None)
    finally:
        bus.disconnect()
        link.close()


def test_a_healthy_so101_passes_the_host_check():
    assert _check(FeetechChain(SPEC)) == ([], ["6 motors answer (ids 1, 2, 3, 4, 5, 6), supply 7.4 V (STS3215)"])


def test_the_host_check_names_what_is_wrong_on_an_so101():
    fix = "robotapp setup-motors --arm follower"
    missing = FeetechChain(",".join(f"{j.id}:{j.model}" for j in FOLLOWER.joints if j.id != 4))
    assert _check(missing)[0] == [f"motor id 4 (wrist_flex) does not answer: check its cable and that it was set up "
                                  f"({fix})"]
    shared = FeetechChain(SPEC)
    shared.servo(5).set("ID", 4)
    assert _check(shared)[0] == [
        f"2 motors answer at id 4 (wrist_flex): every command reaches all of them: connect them one at a time and "
        f"give each its own id with `{fix}`",
        f"motor id 5 (wrist_roll) does not answer: check its cable and that it was set up ({fix})"]
    other = FeetechChain(SPEC)
    other.servo(3).set("Model_Number", 2825)
    assert _check(other)[0] == ["motor id 3 (elbow_flex) is an unknown Feetech model 2825 but the profile "
                                "so101-follower expects a sts3215: swap the motor or use a profile that has it"]
    assert _check(FeetechChain(SPEC, baudrate=500_000))[0] == [
        f"no motor answers at 1000000 bps, but id 1 (sts3215), id 2 (sts3215), id 3 (sts3215), id 4 (sts3215), "
        f"id 5 (sts3215), id 6 (sts3215) at 500000 bps: set the motors up with `{fix}`"]
    hot = FeetechChain(SPEC)
    hot.set_supply(12.0)  # the Koch follower's adapter
    assert _check(hot)[0] == ["supply 12.0 V but its STS3215 motors take 7.4 V: plug the 7.4 V supply into the "
                              "follower"]


# ------------------------------------------------------------------ ids, calibration files, injected faults
def test_motor_ids_go_to_253_on_feetech_and_252_on_dynamixel():
    assert parse_motor_spec("253:sts3215", feetech_tables) == {253: "sts3215"}
    with pytest.raises(ValueError) as e:
        parse_motor_spec("254:sts3215", feetech_tables)
    assert str(e.value) == "motor id 254 is outside 0..253, the ids a sts3215 can have"
    with pytest.raises(ValueError) as e:
        parse_motor_spec("253:xl430-w250")
    assert str(e.value) == "motor id 253 is outside 0..252, the ids a xl430-w250 can have"


def _so101_file(tmp_path, **change):
    data = {j.name: {"id": j.id, "drive_mode": 0, "homing_offset": -40 * j.id, "range_min": 800,
                     "range_max": 3200} for j in FOLLOWER.joints}
    data["gripper"].update(change)
    path = tmp_path / "so101.json"
    path.write_text(json.dumps(data))
    return path


def test_so101_calibration_files_are_held_to_the_sts3215(tmp_path):
    cal = load_calibration(_so101_file(tmp_path), FOLLOWER)
    assert cal["gripper"].homing_offset == -240 and cal["gripper"].drive_mode == 0
    with pytest.raises(CalibrationFileError) as e:
        load_calibration(_so101_file(tmp_path, drive_mode=1), FOLLOWER)
    assert "gripper.drive_mode is 1 but its sts3215 has no Drive_Mode register" in str(e.value)
    assert "\n" not in str(e.value)
    with pytest.raises(CalibrationFileError, match=r"gripper.homing_offset is 3000, outside -2047..2047"):
        load_calibration(_so101_file(tmp_path, homing_offset=3000), FOLLOWER)
    # read without its profile, a Feetech id of 253 is a valid id
    assert load_calibration(_so101_file(tmp_path, id=253))["gripper"].id == 253


def test_injected_faults_use_the_sts3215_registers():
    arm = VirtualArm(FOLLOWER)
    try:
        parse_injections("overload:gripper,hot:wrist_flex")(arm)
        bus = FeetechBus(arm.port, FOLLOWER.motors, baudrate=FOLLOWER.baudrate, latency_ms=1.0)
        bus.connect(handshake=False)
        try:
            rows = {r.motor: r for r in health_table(bus)}
        finally:
            bus.disconnect()
    finally:
        arm.close()
    assert "hardware error: overload" in rows["gripper"].problem
    assert rows["wrist_flex"].problem.startswith("hot: 65 °C, shuts down at 70 °C")
    assert rows["elbow_flex"].problem == ""
