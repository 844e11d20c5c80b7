"""FeetechBus (scservo_sdk underneath) against the in-process Feetech emulator: registers by name, sign-magnitude
values through sync read/write, torque and the EEPROM lock, retries and one-line errors naming the motor."""

import numpy as np
import pytest

from hardware.motors import CommError, ConfigError, FeetechBus, HardwareAlertError, Motor, ValueRangeError
from hardware.motors.feetech_tables import ERR_OVERLOAD
from hardware.virtual import FaultConfig, FeetechChain

SO101 = {name: Motor(i, "sts3215") for i, name in enumerate(
    ["shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper"], start=1)}
SPEC = ",".join(f"{m.id}:sts3215" for m in SO101.values())


# clock and link come from conftest.py; the chain and the bus are this family's
@pytest.fixture
def chain(clock):
    return FeetechChain(SPEC, clock=clock)


@pytest.fixture
def bus(link):
    bus = FeetechBus(link.url, SO101, latency_ms=1.0)
    bus.connect()
    yield bus
    bus.disconnect()


def test_read_and_write_by_name(bus, chain):
    assert bus.read("Model_Number", "gripper") == 777
    bus.write("Goal_Position", "elbow_flex", 3000)
    assert bus.read("Goal_Position", "elbow_flex") == 3000 and chain.servo(3).get("Goal_Position") == 3000
    bus.write("Homing_Offset", "wrist_flex", -1234)
    assert bus.read("Homing_Offset", "wrist_flex") == -1234
    # on the wire: magnitude with bit 11 set, not two's complement
    assert bytes(chain.servo(4).mem[31:33]) == (1234 | 1 << 11).to_bytes(2, "little")
    # Present = actual - offset (Dynamixel adds it), one turn
    assert bus.read("Present_Position", "wrist_flex") == (2048 + 1234) % 4096


def test_sync_round_trips_with_sign_magnitude_values(bus, chain):
    velocities = np.array([-500, 500, -32767, 32767, 0, -1])
    bus.sync_write("Goal_Velocity", velocities)
    assert np.array_equal(bus.sync_read("Goal_Velocity"), velocities)
    assert bytes(chain.servo(1).mem[46:48]) == (500 | 1 << 15).to_bytes(2, "little")
    offsets = {"shoulder_pan": -2047, "gripper": 2047}
    bus.sync_write("Homing_Offset", offsets)
    assert list(bus.sync_read("Homing_Offset", list(offsets))) == [-2047, 2047]
    assert list(bus.sync_read("Present_Position", list(offsets))) == [(2048 + 2047) % 4096, 1]
    goals = np.arange(6) * 700
    bus.sync_write("Goal_Position", goals)
    assert np.array_equal(bus.sync_read("Goal_Position"), goals)


def test_values_out_of_range_are_refused_before_the_wire(bus, chain):
    packets = chain.packets_in
    with pytest.raises(ValueRangeError, match=r"gripper \(id 6\): Homing_Offset: -2048 is outside -2047..2047"):
        bus.write("Homing_Offset", "gripper", -2048)
    with pytest.raises(ConfigError, match="Present_Position is read-only"):
        bus.write("Present_Position", "gripper", 1)
    assert chain.packets_in == packets


def test_torque_moves_the_joint_and_locks_the_eeprom(bus, chain, clock):
    bus.torque(False)
    assert not chain.servo(2).torque_on and not chain.servo(2).locked
    bus.sync_write("Goal_Position", np.full(6, 2048))
    bus.torque(True)
    assert all(s.torque_on and s.locked for s in chain.servos)
    bus.write("Goal_Position", "shoulder_lift", 2500)
    clock.advance(0.05)
    moving = bus.read("Present_Position", "shoulder_lift")
    assert 2048 < moving < 2500 and bus.read("Moving", "shoulder_lift") == 1
    clock.advance(2.0)
    assert bus.read("Present_Position", "shoulder_lift") == 2500
    assert bus.read("Moving", "shoulder_lift") == 0


def test_change_id_and_baud_rate_survive_a_power_cycle(bus, chain):
    bus.change_id(6, 7)
    chain.replug(7)
    assert bus.ping(7) == 777 and bus.ping(6) is None
    assert chain.servo(7).locked  # locked again after the change
    bus.change_baudrate(7, 500_000)
    assert bus.baudrate == 500_000 and bus.ping(7) == 777
    chain.replug(7)
    assert bus.ping(7) == 777
    bus.set_baudrate(1_000_000)
    assert bus.ping(7) is None
    assert bus.scan() == {1_000_000: {1: 777, 2: 777, 3: 777, 4: 777, 5: 777}, 500_000: {7: 777}}


def test_eeprom_writes_under_lock_are_not_saved(bus, chain):
    bus.write("Max_Position_Limit", "gripper", 3000)  # Lock is 1 at power-up
    assert bus.read("Max_Position_Limit", "gripper") == 3000  # the working copy changes at once
    chain.replug(6)
    assert bus.read("Max_Position_Limit", "gripper") == 4095  # ...but the old value comes back
    bus.write("Lock", "gripper", 0)
    bus.write("Max_Position_Limit", "gripper", 3000)
    chain.replug(6)
    assert bus.read("Max_Position_Limit", "gripper") == 3000 and bus.read("Lock", "gripper") == 1


def test_a_dead_line_raises_after_the_configured_retries_naming_the_motor(bus, chain):
    chain.set_faults(FaultConfig(lost_reply=1.0))
    with pytest.raises(CommError) as e:
        bus.read("Present_Position", "gripper", retries=2)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"port {bus.port}: reading Present_Position from gripper (id 6)")
    assert msg.endswith("failed: there is no status packet") and e.value.motor == "gripper (id 6)"
    assert bus.stats.retries == 2 and bus.stats.timeouts == 3 and bus.stats.failures == 1
    chain.set_faults(FaultConfig(corrupt_crc=1.0))
    with pytest.raises(CommError, match=r"sync read of Present_Position got no valid answer from shoulder_pan "
                                        r"\(id 1\), .*gripper \(id 6\) after 4 attempts"):
        bus.sync_read("Present_Position")
    assert bus.stats.crc_errors == 4 * 6


def test_an_unplugged_motor_is_named(bus, chain, link):
    chain.unplug(4)
    with pytest.raises(CommError, match=r"no valid answer from wrist_flex \(id 4\) after") as e:
        bus.sync_read("Present_Position", retries=1)
    assert e.value.motors == ("wrist_flex",)
    bus.disconnect()
    with pytest.raises(CommError, match=r"no answer from wrist_flex \(id 4\); ids that do answer: 1 \(sts3215\)"):
        FeetechBus(link.url, SO101, latency_ms=1.0, retries=0).connect()


def test_corrupt_and_lost_replies_never_give_wrong_values(bus, chain):
    chain.set_faults(FaultConfig(corrupt_crc=0.01, lost_reply=0.005, stray_bytes=0.01, seed=4))
    rng = np.random.default_rng(4)
    written = rng.integers(0, 4096, 6)
    bus.sync_write("Goal_Position", written)
    ok = errors = 0
    for _ in range(2000):
        try:
            assert np.array_equal(bus.sync_read("Goal_Position"), written)
            ok += 1
        except CommError:
            errors += 1
        written = rng.integers(0, 4096, 6)
        bus.sync_write("Goal_Position", written)
    assert ok / 2000 >= 0.999
    injected = chain.faults.injected
    assert injected["corrupt_crc"] > 50 and injected["lost_reply"] > 20 and injected["stray_bytes"] > 50
    assert bus.stats.crc_errors == injected["corrupt_crc"] and bus.stats.timeouts == injected["lost_reply"]


def test_condition_bits_are_noted_and_named(bus, chain):
    bus.torque(True)
    chain.servo(2).raise_hardware_error(ERR_OVERLOAD)  # Unloading_Condition includes overload: torque off
    assert not chain.servo(2).torque_on
    bus.sync_read("Present_Position")
    assert bus.alerts == {"shoulder_lift (id 2)": ERR_OVERLOAD}
    with pytest.raises(HardwareAlertError, match=r"shoulder_lift \(id 2\) reports overload"):
        bus.check_hardware()
    chain.replug(2)
    bus.check_hardware()
    assert bus.alerts == {}
