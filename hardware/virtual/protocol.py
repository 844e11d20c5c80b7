"""Dynamixel Protocol 2.0 as a servo sees it: parse instruction packets from a byte stream, build status packets.

This is the only home-made packet code in the project; the host side always goes through dynamixel-sdk.
Packet: FF FF FD 00 | ID | LEN_L LEN_H | INSTR | PARAMS... | CRC_L CRC_H, LEN = len(params) + 3.
After the header, any FF FF FD in the body is sent as FF FF FD FD (byte stuffing); LEN and the CRC cover the
stuffed body.
"""

from __future__ import annotations

from dataclasses import dataclass

HEADER = b"\xff\xff\xfd\x00"
BROADCAST_ID = 0xFE

PING, READ, WRITE, REG_WRITE, ACTION, FACTORY_RESET, REBOOT, CLEAR = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x08, 0x10
STATUS, SYNC_READ, SYNC_WRITE, FAST_SYNC_READ, BULK_READ, BULK_WRITE = 0x55, 0x82, 0x83, 0x8A, 0x92, 0x93

# Status error byte: low 7 bits = error number, bit 7 = hardware alert.
ERR_RESULT_FAIL, ERR_INSTRUCTION, ERR_CRC, ERR_DATA_RANGE, ERR_DATA_LENGTH, ERR_DATA_LIMIT, ERR_ACCESS = range(1, 8)
ERR_ALERT = 0x80


def _make_crc_table() -> list[int]:
    table = []
    for i in range(256):
        crc = i << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return table


_CRC_TABLE = _make_crc_table()


def crc16(data: bytes | bytearray, crc: int = 0) -> int:
    """CRC-16/BUYPASS (poly 0x8005, init 0, no reflection): what Dynamixel Protocol 2.0 uses."""
    for b in data:
        crc = ((crc << 8) ^ _CRC_TABLE[((crc >> 8) ^ b) & 0xFF]) & 0xFFFF
    return crc


def stuff(body: bytes) -> bytes:
    """Insert FD after every FF FF FD in the body (instruction + params). The bytes before the body (LEN_L LEN_H)
    can't be FF FF for any legal length, so the body can be stuffed on its own."""
    out = bytearray()
    for b in body:
        out.append(b)
        if b == 0xFD and len(out) >= 3 and out[-3] == 0xFF and out[-2] == 0xFF:
            out.append(0xFD)
    return bytes(out)


def unstuff(body: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(body):
        b = body[i]
        out.append(b)
        if b == 0xFD and len(out) >= 3 and out[-3] == 0xFF and out[-2] == 0xFF and i + 1 < len(body) \
                and body[i + 1] == 0xFD:
            i += 1  # drop the stuffing byte
        i += 1
    return bytes(out)


def build_packet(packet_id: int, instruction: int, params: bytes) -> bytes:
    body = stuff(bytes([instruction]) + params)
    length = len(body) + 2
    head = HEADER + bytes([packet_id, length & 0xFF, length >> 8])
    crc = crc16(head + body)
    return head + body + bytes([crc & 0xFF, crc >> 8])


def build_status(servo_id: int, error: int, params: bytes = b"") -> bytes:
    return build_packet(servo_id, STATUS, bytes([error]) + params)


def build_fast_status(blocks: list[tuple[int, int, bytes]]) -> bytes:
    """Fast Sync Read answer: one packet from ID FE holding (error, id, data, crc) per servo. Each servo appends
    its block and a running CRC of the packet so far; the last CRC is the packet's own."""
    total = 1 + sum(len(d) + 4 for _, _, d in blocks)  # instr + blocks (last block's CRC is the packet CRC)
    raw = bytearray(HEADER + bytes([BROADCAST_ID, total & 0xFF, total >> 8, STATUS]))
    for k, (error, servo_id, data) in enumerate(blocks):
        raw += bytes([error, servo_id]) + data
        if k < len(blocks) - 1:
            crc = crc16(raw)
            raw += bytes([crc & 0xFF, crc >> 8])
    body = stuff(bytes(raw[7:]))
    length = len(body) + 2
    packet = bytearray(HEADER + bytes([BROADCAST_ID, length & 0xFF, length >> 8])) + body
    crc = crc16(packet)
    return bytes(packet + bytes([crc & 0xFF, crc >> 8]))


@dataclass
class Instruction:
    id: int
    instruction: int
    params: bytes
    crc_ok: bool
    wire_length: int  # bytes on the wire, for the timing model


class PacketParser:
    """Incremental parser: feed() raw bytes, get complete instruction packets. Garbage before a header is
    skipped, as a servo's firmware does."""

    MAX_LENGTH = 1024

    def __init__(self):
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Instruction]:
        self._buf += data
        out: list[Instruction] = []
        while True:
            start = self._buf.find(HEADER)
            if start < 0:
                # keep a possible partial header at the end
                del self._buf[:max(0, len(self._buf) - 3)]
                return out
            if start:
                del self._buf[:start]
            if len(self._buf) < 7:
                return out
            length = self._buf[5] | (self._buf[6] << 8)
            if length < 3 or length > self.MAX_LENGTH:
                del self._buf[:1]  # not a real header; resync
                continue
            total = 7 + length
            if len(self._buf) < total:
                return out
            packet = bytes(self._buf[:total])
            del self._buf[:total]
            crc_ok = crc16(packet[:-2]) == (packet[-2] | (packet[-1] << 8))
            body = unstuff(packet[7:-2])
            out.append(Instruction(packet[4], body[0] if body else 0, body[1:], crc_ok, total))

    def reset(self) -> None:
        self._buf.clear()
