"""The real dynamixel-sdk (through DynamixelBus) against the byte-level emulator, one instruction at a time."""

import numpy as np
import pytest
from dynamixel_sdk import COMM_SUCCESS, GroupBulkRead, GroupBulkWrite, PacketHandler

from hardware.motors import CommError, ConfigError, DynamixelBus, Motor, MotorStatusError
from hardware.motors.tables import HW_OVERLOAD
from hardware.virtual import ServoChain, serve_inprocess

from .conftest import KOCH


def test_ping_and_broadcast_ping(bus):
    assert bus.ping(1) == 1060 and bus.ping(6) == 1200
    assert bus.ping(42) is None
    assert bus.scan([1_000_000]) == {1_000_000: {1: 1060, 2: 1060, 3: 1200, 4: 1200, 5: 1200, 6: 1200}}


def test_read_and_write_one_register(bus, chain):
    assert bus.read("Model_Number", "elbow_flex") == 1200
    assert bus.read("Present_Input_Voltage", "shoulder_pan") == 120  # 12 V supply on the XL430
    bus.write("Homing_Offset", "wrist_flex", -1234)
    assert bus.read("Homing_Offset", "wrist_flex") == -1234
    assert chain.servo(4).get("Homing_Offset") == -1234  # it really reached the servo's memory


@pytest.mark.parametrize("fast", [False, True])
def test_sync_read_and_sync_write(bus, fast):
    bus.fast_sync_read = fast
    goals = np.array([100, 4000, 2048, 7, 3000, 1500])
    bus.sync_write("Goal_Position", goals)
    assert np.array_equal(bus.sync_read("Goal_Position"), goals)
    bus.sync_write("Goal_Position", {"gripper": 999, "elbow_flex": 1})
    assert list(bus.sync_read("Goal_Position", ["elbow_flex", "gripper"])) == [1, 999]


@pytest.mark.parametrize("fast", [False, True])
def test_values_that_need_byte_stuffing_survive_both_directions(bus, fast):
    # 0xFDFFFF00 as int32: its bytes 00 FF FF FD form the header pattern and must be stuffed on the wire.
    bus.fast_sync_read = fast
    tricky = -33554688
    bus.sync_write("Goal_Velocity", [tricky, -3, tricky, 0, tricky, 65535])
    assert list(bus.sync_read("Goal_Velocity")) == [tricky, -3, tricky, 0, tricky, 65535]


def test_fast_sync_read_names_a_missing_motor(bus, chain):
    bus.fast_sync_read = True
    chain.unplug(4)
    with pytest.raises(CommError, match=r"wrist_flex \(id 4\)") as err:
        bus.sync_read("Present_Position", retries=1)
    assert err.value.motors == ("wrist_flex",)


def test_reboot_clears_a_latched_hardware_error(bus, chain):
    chain.servo(3).raise_hardware_error(HW_OVERLOAD)
    assert bus.hardware_errors() == {"elbow_flex": HW_OVERLOAD}
    with pytest.raises(MotorStatusError, match="elbow_flex.*Torque_Enable.*result fail"):
        bus.write("Torque_Enable", "elbow_flex", 1)
    bus.read("ID", "elbow_flex")
    assert "elbow_flex (id 3)" in bus.alerts  # the status packet's alert bit was seen
    bus.reboot("elbow_flex")
    assert bus.hardware_errors() == {}
    bus.write("Torque_Enable", "elbow_flex", 1)
    assert bus.read("Torque_Enable", "elbow_flex") == 1


def test_factory_reset_keeps_id_and_baud_when_asked(bus, chain):
    bus.write("Return_Delay_Time", "gripper", 0)
    bus.write("Homing_Offset", "gripper", 55)
    bus.factory_reset(6, keep="id_and_baud")
    assert bus.read("Return_Delay_Time", "gripper") == 250
    assert bus.read("Homing_Offset", "gripper") == 0
    bus.factory_reset(6, keep="nothing")  # back to id 1 at 57600: gone from this bus
    assert chain.servos[5].id == 1 and chain.servos[5].baud_value == 1
    with pytest.raises(ConfigError, match="keep='all'"):
        bus.factory_reset(5, keep="all")


def test_eeprom_is_locked_while_torque_is_on(bus):
    bus.write("Torque_Enable", "shoulder_lift", 1)
    with pytest.raises(MotorStatusError, match=r"shoulder_lift \(id 2\) refused Operating_Mode: access denied"):
        bus.write("Operating_Mode", "shoulder_lift", 4)
    assert bus.read("Operating_Mode", "shoulder_lift") == 3
    bus.write("Torque_Enable", "shoulder_lift", 0)
    bus.write("Operating_Mode", "shoulder_lift", 4)
    assert bus.read("Operating_Mode", "shoulder_lift") == 4


def test_change_id(bus):
    bus.change_id(3, 10)
    assert bus.ping(10) == 1200 and bus.ping(3) is None
    with pytest.raises(ConfigError, match="id 1 is already taken.*xl430-w250"):
        bus.change_id(10, 1)


def test_scan_finds_servos_at_a_non_default_baud_rate():
    chain = ServoChain("7:xl330-m077,9:xl430-w250", baudrate=57_600)  # factory baud rate
    link = serve_inprocess(chain)
    try:
        bus = DynamixelBus(link.url, baudrate=1_000_000)
        bus.connect()
        assert bus.scan([1_000_000, 57_600]) == {57_600: {7: 1190, 9: 1060}}
        assert bus.baudrate == 1_000_000  # left where it was
        bus.set_baudrate(57_600)
        bus.change_baudrate(9, 2_000_000)  # the port follows the servo
        assert bus.ping(9) == 1060 and bus.ping(7) is None
        assert bus.scan([57_600, 2_000_000], ids=[7, 9]) == {57_600: {7: 1190}, 2_000_000: {9: 1060}}
    finally:
        link.close()


def test_return_delay_is_modelled_on_the_wire(chain):
    chain.wire_timing = True
    ping = bytes.fromhex("FFFFFD0001030001") + bytes([0x19, 0x4E])  # PING id 1 (CRC from the e-manual)
    (slow, _), = chain.handle(ping, 1_000_000)[0]
    chain.servo(1).set("Return_Delay_Time", 0)
    (fast, _), = chain.handle(ping, 1_000_000)[0]
    assert slow - fast == pytest.approx(250 * 2e-6)
    assert fast == pytest.approx((10 + 14) * 10e-6)  # 10-byte ping + 14-byte status at 10 us/byte
    # half duplex: a packet sent while the line is still busy goes out after it, and so does its answer
    replies, busy = chain.handle(ping, 1_000_000, line_free_in=1e-3)
    assert replies[0][0] == pytest.approx(1e-3 + fast) and busy == pytest.approx(replies[0][0])


def test_status_return_level_silences_write_replies(bus, chain):
    bus.write("Status_Return_Level", "wrist_roll", 1)
    with pytest.raises(CommError, match=r"writing LED=1 to wrist_roll \(id 5\) failed: there is no status packet"):
        bus.write("LED", "wrist_roll", 1, retries=0)
    assert chain.servo(5).get("LED") == 1  # applied all the same, as on a real servo
    assert bus.read("LED", "wrist_roll") == 1  # reads still answer at level 1


def test_bulk_read_write_and_reg_write_action_through_the_sdk(link, chain):
    from hardware.motors.ports import UrlPortHandler

    port = UrlPortHandler(link.url)
    assert port.openPort()
    ph = PacketHandler(2.0)
    bw = GroupBulkWrite(port, ph)
    assert bw.addParam(1, 116, 4, list((1000).to_bytes(4, "little")))
    assert bw.addParam(6, 65, 1, [1])
    assert bw.txPacket() == COMM_SUCCESS
    br = GroupBulkRead(port, ph)
    br.addParam(1, 116, 4)
    br.addParam(6, 65, 1)
    assert br.txRxPacket() == COMM_SUCCESS
    assert br.getData(1, 116, 4) == 1000 and br.getData(6, 65, 1) == 1
    assert ph.regWriteTxRx(port, 2, 116, 4, list((321).to_bytes(4, "little")))[0] == COMM_SUCCESS
    assert chain.servo(2).get("Goal_Position") != 321  # registered, not applied yet
    assert ph.action(port, 2) == COMM_SUCCESS
    assert chain.servo(2).get("Goal_Position") == 321
    port.closePort()


def test_handshake_names_missing_motors_and_lists_what_answers(link, chain):
    chain.unplug(2)
    chain.unplug(5)
    bus = DynamixelBus(link.url, KOCH, latency_ms=1.0)
    with pytest.raises(CommError) as err:
        bus.connect()
    msg = str(err.value)
    assert "shoulder_lift (id 2)" in msg and "wrist_roll (id 5)" in msg
    assert "ids that do answer: 1 (xl430-w250), 3 (xl330-m288)" in msg
    assert "\n" not in msg
    assert not bus.is_connected


def test_unplugged_servo_error_names_it(bus, chain):
    chain.unplug(3)
    with pytest.raises(CommError, match=r"sync read of Present_Position got no valid answer from elbow_flex \(id 3\)"):
        bus.sync_read("Present_Position", retries=1)
    with pytest.raises(CommError, match=r"reading Present_Temperature from elbow_flex \(id 3\) failed"):
        bus.read("Present_Temperature", "elbow_flex", retries=0)
    chain.replug(3)
    assert len(bus.sync_read("Present_Position")) == 6


def test_torque_helper_and_custom_model_map(link):
    bus = DynamixelBus(link.url, {"a": Motor(1, "xl430-w250"), "b": Motor(4, "xl330-m288")}, latency_ms=1.0)
    with bus:
        bus.torque(True)
        assert list(bus.sync_read("Torque_Enable")) == [1, 1]
        bus.torque(False, ["b"])
        assert list(bus.sync_read("Torque_Enable")) == [1, 0]
