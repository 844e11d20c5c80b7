"""Bad input: one clear line that names what is at fault, raised before anything reaches the wire."""

import pytest

from hardware.motors import (
    ConfigError,
    DynamixelBus,
    Motor,
    NotConnectedError,
    PortError,
    UnknownModelError,
    UnknownMotorError,
    UnknownRegisterError,
    ValueRangeError,
)
from hardware.virtual import FaultConfig, ServoChain, parse_motor_spec


def _one_line(exc_info):
    msg = str(exc_info.value)
    assert msg and "\n" not in msg
    return msg


def test_unknown_register(bus):
    with pytest.raises(UnknownRegisterError) as e:
        bus.read("Goal_Positon", "elbow_flex")
    assert "'Goal_Positon'" in _one_line(e) and "xl330-m288" in str(e.value)
    with pytest.raises(UnknownRegisterError, match="'Present_Current' for xl430-w250"):
        bus.sync_read("Present_Current")  # the XL430s in the chain have Present_Load instead


def test_unknown_model_and_motor(bus):
    with pytest.raises(UnknownModelError, match="'xl320'") as e:
        DynamixelBus("/dev/null", {"a": Motor(1, "xl320")})
    _one_line(e)
    with pytest.raises(UnknownMotorError, match="'elbow'.*known: shoulder_pan"):
        bus.read("ID", "elbow")


def test_value_too_big_for_the_register(bus, chain):
    before = chain.packets_in
    with pytest.raises(ValueRangeError, match=r"elbow_flex \(id 3\): Goal_Position: 2147483648 is outside") as e:
        bus.write("Goal_Position", "elbow_flex", 2**31)
    _one_line(e)
    with pytest.raises(ValueRangeError, match=r"gripper \(id 6\): Torque_Enable: 2 is outside 0..1"):
        bus.sync_write("Torque_Enable", [0, 0, 0, 0, 0, 2])
    with pytest.raises(ConfigError, match="5 values for 6 motors"):
        bus.sync_write("Goal_Position", [1, 2, 3, 4, 5])
    with pytest.raises(ConfigError, match="Present_Position is read-only"):
        bus.sync_write("Present_Position", [0] * 6)
    assert chain.packets_in == before  # nothing reached the servos


def test_servo_refuses_goal_outside_its_position_limits(bus):
    from hardware.motors import MotorStatusError

    bus.write("Max_Position_Limit", "wrist_flex", 3000)
    with pytest.raises(MotorStatusError, match=r"wrist_flex \(id 4\) refused Goal_Position: value over the limit"):
        bus.write("Goal_Position", "wrist_flex", 3500)


def test_missing_port():
    with pytest.raises(PortError, match="serial port /dev/ttyUSB-nope does not exist") as e:
        DynamixelBus("/dev/ttyUSB-nope").connect()
    _one_line(e)
    with pytest.raises(PortError, match="emu://nothing-here does not exist"):
        DynamixelBus("emu://nothing-here").connect()


def test_busy_in_process_port(link):
    first = DynamixelBus(link.url)
    first.connect(handshake=False)
    with pytest.raises(PortError, match=f"serial port {link.url} is busy"):
        DynamixelBus(link.url).connect()
    first.disconnect()
    DynamixelBus(link.url).connect(handshake=False)  # free again once closed


def test_use_before_connect_and_bad_setup_values(link):
    bus = DynamixelBus(link.url, {"a": Motor(1, "xl430-w250")})
    with pytest.raises(NotConnectedError, match="not connected"):
        bus.read("ID", "a")
    with pytest.raises(ConfigError, match="both use id 1"):
        DynamixelBus(link.url, {"a": Motor(1, "xl430-w250"), "b": Motor(1, "xl330-m288")})
    bus.connect()
    with pytest.raises(ConfigError, match="new id 300 is outside 0..252"):
        bus.change_id(1, 300)
    with pytest.raises(ConfigError, match="baud rate 12345 is not a Dynamixel rate"):
        bus.set_baudrate(12345)
    bus.disconnect()


@pytest.mark.parametrize("spec,message", [
    ("1:xl430-w250,1:xl330-m288", "motor id 1 is listed twice"),
    ("1-xl430", "bad motor entry '1-xl430'"),
    ("300:xl430-w250", "motor id 300 is outside 0..252"),
    ("1:ax12", "unknown motor model 'ax12'"),
])
def test_emulator_motor_list_errors(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_motor_spec(spec)


@pytest.mark.parametrize("spec,message", [
    ("corrupt_crc=abc", "bad fault setting 'corrupt_crc=abc': 'abc' is not a number (the probability of a corrupt crc"),
    ("lost_reply=1.5", "bad fault setting 'lost_reply=1.5': lost_reply is a probability, within 0..1, got 1.5"),
    ("lost_reply=-0.1", "lost_reply is a probability, within 0..1, got -0.1"),
    ("lost_reply=nan", "lost_reply is a probability, within 0..1, got nan"),
    ("stray_bytes=", "bad fault setting 'stray_bytes=': stray_bytes needs a value"),
    ("seed=1.5", "bad fault setting 'seed=1.5': seed must be a whole number, got '1.5'"),
    ("lost=0.1", "bad fault setting 'lost=0.1': unknown key 'lost'; use lost_reply, corrupt_crc"),
    ("corrupt_crc=0.1,corrupt_crc=0.2", "corrupt_crc is given twice"),
    ("corrupt_crc=0.7,lost_reply=0.6", "the probabilities add up to 1.3, more than 1"),
])
def test_fault_spec_errors_name_the_setting(spec, message):
    with pytest.raises(ValueError) as e:
        FaultConfig.parse(spec)
    assert message in _one_line(e)


def test_fault_config_errors():
    with pytest.raises(ValueError, match="lost_reply=1.5 must be within 0..1"):
        FaultConfig(lost_reply=1.5)
    with pytest.raises(ValueError, match="bad fault setting 'crc=0.1'"):
        FaultConfig.parse("crc=0.1")
    assert FaultConfig.parse("corrupt_crc=0.01, seed=4") == FaultConfig(corrupt_crc=0.01, seed=4)
    with pytest.raises(ValueError, match="not supported by xl330-m077"):
        ServoChain("1:xl330-m077", baudrate=4_500_000)
