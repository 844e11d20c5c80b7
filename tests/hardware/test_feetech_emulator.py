"""The Feetech emulator at byte level: what each instruction gets back, and when, on a wire with timing on."""

import pytest

from hardware.virtual import FeetechChain
from hardware.virtual import feetech_protocol as fp

from .conftest import FakeClock

BAUD = 1_000_000


@pytest.fixture
def chain():
    return FeetechChain("1:sts3215,2:sts3215,3:sts3215", wire_timing=True, clock=FakeClock())


def send(chain, packet_id, instruction, params=b""):
    replies, _ = chain.handle(fp.build_packet(packet_id, instruction, bytes(params)), BAUD)
    return replies


def test_packets_match_the_vendor_format():
    # FF FF ID LEN INSTR PARAMS ~SUM: a read of 2 bytes at 56 from id 1, as scservo_sdk builds it
    assert fp.build_packet(1, fp.READ, bytes([56, 2])) == bytes([0xFF, 0xFF, 1, 4, 2, 56, 2, (~(1 + 4 + 2 + 56 + 2)) & 0xFF])


def test_read_write_and_a_bad_checksum(chain):
    (_, reply), = send(chain, 2, fp.READ, [3, 2])
    assert reply == fp.build_status(2, 0, (777).to_bytes(2, "little"))
    (_, reply), = send(chain, 2, fp.WRITE, [42, 0x34, 0x12])
    assert reply == fp.build_status(2, 0)
    assert chain.servo(2).get("Goal_Position") == 0x1234  # the servo stores what it is given (no range check)
    bad = bytearray(fp.build_packet(2, fp.WRITE, bytes([42, 0, 0])))
    bad[-1] ^= 0xFF
    replies, _ = chain.handle(bytes(bad), BAUD)
    assert replies == [] and chain.servo(2).get("Goal_Position") == 0x1234  # dropped, unanswered, not applied


def test_broadcast_ping_sync_read_and_sync_write(chain):
    replies = send(chain, fp.BROADCAST_ID, fp.PING)
    assert [r for _, r in replies] == [fp.build_status(i, 0) for i in (1, 2, 3)]
    params = bytes([42, 2]) + b"".join(bytes([i]) + (100 * i).to_bytes(2, "little") for i in (3, 1))
    assert send(chain, fp.BROADCAST_ID, fp.SYNC_WRITE, params) == []
    replies = send(chain, fp.BROADCAST_ID, fp.SYNC_READ, [42, 2, 3, 2, 1])
    assert [r for _, r in replies] == [fp.build_status(3, 0, (300).to_bytes(2, "little")),
                                       fp.build_status(2, 0, (2048).to_bytes(2, "little")),
                                       fp.build_status(1, 0, (100).to_bytes(2, "little"))]
    times = [t for t, _ in replies]
    assert times == sorted(times)  # one after another on the half-duplex wire


def test_reg_write_waits_for_action(chain):
    send(chain, 1, fp.REG_WRITE, [42, 0xE8, 0x03])
    assert chain.servo(1).get("Goal_Position") == 2048
    assert send(chain, fp.BROADCAST_ID, fp.ACTION) == []
    assert chain.servo(1).get("Goal_Position") == 1000


def test_status_return_level_and_return_delay(chain):
    send(chain, 3, fp.WRITE, [8, 0])  # Status_Return_Level 0: only ping and read answer
    assert send(chain, 3, fp.WRITE, [42, 0, 4]) == [] and chain.servo(3).get("Goal_Position") == 1024
    assert len(send(chain, 3, fp.READ, [42, 2])) == 1 and len(send(chain, 3, fp.PING)) == 1
    (fast, _), = send(chain, 2, fp.PING)
    send(chain, 2, fp.WRITE, [7, 250])  # Return_Delay_Time: 250 x 2 us
    (slow, _), = send(chain, 2, fp.PING)
    assert slow - fast == pytest.approx(500e-6)
    # 6 bytes out and 6 back at 10 bits a byte
    assert fast == pytest.approx(12 * 10 / BAUD)


def test_eeprom_lock_and_the_power_cycle(chain):
    servo = chain.servo(1)
    assert servo.locked
    send(chain, 1, fp.WRITE, [31, 0x64, 0x08])  # Homing_Offset -100 (bit 11 set), locked: not saved
    assert servo.get("Homing_Offset") == -100
    chain.replug(1)
    assert servo.get("Homing_Offset") == 0
    send(chain, 1, fp.WRITE, [55, 0])
    send(chain, 1, fp.WRITE, [31, 0x64, 0x08])
    chain.replug(1)
    assert servo.get("Homing_Offset") == -100 and servo.locked
