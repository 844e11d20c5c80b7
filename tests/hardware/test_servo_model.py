"""The emulated motor: motion limits, current, heat and hardware errors, on a clock the test controls."""

import pytest

from hardware.motors.tables import HW_OVERHEATING, HW_OVERLOAD, RESOLUTION


def _enable(bus, motor, goal):
    bus.write("Torque_Enable", motor, 1)
    bus.write("Goal_Position", motor, goal)


def test_position_follows_goal_within_the_velocity_limit(bus, clock):
    start = bus.read("Present_Position", "elbow_flex")
    _enable(bus, "elbow_flex", start + 1500)
    clock.advance(0.1)
    moved = bus.read("Present_Position", "elbow_flex") - start
    vmax = 103.0 * RESOLUTION / 60.0  # XL330-M288 no-load speed, ticks/s
    assert 0 < moved <= vmax * 0.1 + 1
    assert bus.read("Present_Velocity", "elbow_flex") > 0
    clock.advance(2.0)
    assert bus.read("Present_Position", "elbow_flex") == pytest.approx(start + 1500, abs=2)
    assert bus.read("Present_Velocity", "elbow_flex") == 0


def test_profile_velocity_slows_the_motion(bus, clock):
    start = bus.read("Present_Position", "wrist_flex")
    bus.write("Profile_Velocity", "wrist_flex", 20)  # 20 * 0.229 rpm
    _enable(bus, "wrist_flex", start + 1000)
    clock.advance(0.5)
    moved = bus.read("Present_Position", "wrist_flex") - start
    assert moved == pytest.approx(20 * 0.229 * RESOLUTION / 60 * 0.5, rel=0.1)


def test_current_responds_to_tracking_error_and_load_on_xl430(bus, clock, chain):
    chain.servo(3).blocked = True  # something holds the horn
    _enable(bus, "elbow_flex", bus.read("Present_Position", "elbow_flex") + 50)
    clock.advance(0.05)
    assert bus.read("Present_Current", "elbow_flex") == pytest.approx(4 * 50, abs=5)
    chain.servo(1).blocked = True
    _enable(bus, "shoulder_pan", bus.read("Present_Position", "shoulder_pan") - 100)
    clock.advance(0.05)
    assert bus.read("Present_Load", "shoulder_pan") < -200  # 0.1 % units, sign follows the error


def test_stall_trips_overload_and_switches_torque_off(bus, clock, chain):
    chain.servo(4).blocked = True
    _enable(bus, "wrist_flex", bus.read("Present_Position", "wrist_flex") + 2000)
    clock.advance(0.5)
    assert bus.hardware_errors() == {}
    clock.advance(0.6)
    assert bus.hardware_errors() == {"wrist_flex": HW_OVERLOAD}
    assert bus.read("Torque_Enable", "wrist_flex") == 0
    with pytest.raises(Exception, match=r"wrist_flex \(id 4\) reports overload; its torque is off"):
        bus.check_hardware()


def test_heat_builds_with_current_and_overheating_latches(bus, clock, chain):
    chain.servo(5).blocked = True
    bus.write("Shutdown", "wrist_roll", HW_OVERHEATING)  # leave overload out so the motor keeps pushing
    _enable(bus, "wrist_roll", bus.read("Present_Position", "wrist_roll") + 1000)
    temps = [bus.read("Present_Temperature", "wrist_roll")]
    while not bus.hardware_errors().get("wrist_roll", 0) & HW_OVERHEATING and clock.t < 1000:
        clock.advance(5.0)
        temps.append(bus.read("Present_Temperature", "wrist_roll"))
    assert temps == sorted(temps) and temps[-1] >= 70  # XL330 Temperature_Limit
    # the stall latched overload too, but only overheating is in Shutdown: that is what cut the torque
    assert bus.hardware_errors() == {"wrist_roll": HW_OVERHEATING | HW_OVERLOAD}
    assert bus.read("Torque_Enable", "wrist_roll") == 0
    clock.advance(120.0)
    assert bus.read("Present_Temperature", "wrist_roll") < temps[-1] - 10  # cools once torque is off


def test_position_mode_reading_folds_into_one_turn_on_torque_on(bus, chain, clock):
    servo = chain.servo(6)
    servo.move_by_hand(3 * RESOLUTION + 100, clock())  # turned by hand three turns with torque off
    assert bus.read("Present_Position", "gripper") == 3 * RESOLUTION + 100
    bus.write("Goal_Position", "gripper", 100)
    bus.write("Torque_Enable", "gripper", 1)
    assert bus.read("Present_Position", "gripper") == 100


def test_homing_offset_shifts_the_reading(bus):
    raw = bus.read("Present_Position", "shoulder_lift")
    bus.write("Homing_Offset", "shoulder_lift", -500)
    assert bus.read("Present_Position", "shoulder_lift") == raw - 500
