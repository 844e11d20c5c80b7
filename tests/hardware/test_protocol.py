"""The emulator's packet codec against dynamixel-sdk's own CRC, stuffing and packet building."""

import random

from dynamixel_sdk import PacketHandler
from hypothesis import example, given
from hypothesis import strategies as st

from hardware.virtual import protocol as p

SDK = PacketHandler(2.0)


@given(st.binary(max_size=200))
def test_crc_matches_the_sdk(data):
    assert p.crc16(data) == SDK.updateCRC(0, list(data), len(data))


@given(st.lists(st.sampled_from([0x00, 0xFD, 0xFF, 0x12]), max_size=60))
@example([0xFF, 0xFF, 0xFF, 0xFD, 0xFF, 0xFD])
def test_stuffing_round_trips_and_matches_the_sdk(body):
    body = bytes([0x55, *body])
    stuffed = p.stuff(body)
    assert p.unstuff(stuffed) == body
    # the invariant a receiver relies on: every FF FF FD in the body is followed by the stuffing FD
    i = stuffed.find(b"\xff\xff\xfd")
    while i >= 0:
        assert stuffed[i + 3:i + 4] == b"\xfd"
        i = stuffed.find(b"\xff\xff\xfd", i + 4)
    # The SDK stuffs a whole packet in place; compare bodies.
    packet = [0xFF, 0xFF, 0xFD, 0x00, 1, (len(body) + 2) & 0xFF, (len(body) + 2) >> 8, *body, 0, 0]
    sdk = SDK.addStuffing(packet)
    assert bytes(sdk[7:-2]) == stuffed


def test_status_packets_parse_in_the_sdk_with_stuffed_data():
    status = p.build_status(3, 0, bytes([0x00, 0xFF, 0xFF, 0xFD, 0x01]))
    rx = list(status)
    assert SDK.updateCRC(0, rx, len(rx) - 2) == rx[-2] | rx[-1] << 8
    assert bytes(SDK.removeStuffing(rx)[9:14]) == bytes([0x00, 0xFF, 0xFF, 0xFD, 0x01])


def test_parser_skips_garbage_and_reports_crc():
    good = p.build_packet(1, p.PING, b"")
    bad = bytearray(p.build_packet(2, p.READ, bytes([132, 0, 4, 0])))
    bad[-1] ^= 0xFF
    parser = p.PacketParser()
    rng = random.Random(0)
    stream = bytes(rng.randrange(0, 0xFF) for _ in range(7)) + good + bytes(bad) + good
    out = []
    for k in range(0, len(stream), 3):  # arrives in dribs and drabs, as from a serial port
        out += parser.feed(stream[k:k + 3])
    assert [(i.id, i.instruction, i.crc_ok) for i in out] == [(1, p.PING, True), (2, p.READ, False), (1, p.PING, True)]


def test_fast_status_layout_is_what_the_sdk_expects():
    blocks = [(0, 1, bytes([1, 2, 3, 4])), (0, 2, bytes([5, 6, 7, 8]))]
    pkt = list(p.build_fast_status(blocks))
    assert pkt[4] == 0xFE and pkt[7] == 0x55
    assert (pkt[5] | pkt[6] << 8) == 1 + 2 * (4 + 4)
    assert pkt[8:14] == [0, 1, 1, 2, 3, 4] and pkt[16:22] == [0, 2, 5, 6, 7, 8]
    assert SDK.updateCRC(0, pkt, len(pkt) - 2) == pkt[-2] | pkt[-1] << 8
