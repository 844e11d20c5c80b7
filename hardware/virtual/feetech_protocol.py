"""The Feetech (SCS/STS) protocol as a servo sees it: parse instruction packets from a byte stream, build status
packets. Home-made packet code for the emulator only; the host side always goes through scservo_sdk.

Instruction: FF FF | ID | LEN | INSTR | PARAMS... | SUM, LEN = len(params) + 2.
Status:      FF FF | ID | LEN | ERROR | PARAMS... | SUM.
SUM = ~(ID + LEN + INSTR/ERROR + PARAMS) & 0xFF. No byte stuffing; one-byte addresses and lengths.
"""

from __future__ import annotations

from .protocol import Instruction

HEADER = b"\xff\xff"
BROADCAST_ID = 0xFE
PING, READ, WRITE, REG_WRITE, ACTION, SYNC_READ, SYNC_WRITE = 0x01, 0x02, 0x03, 0x04, 0x05, 0x82, 0x83


def checksum(body: bytes) -> int:
    return ~sum(body) & 0xFF


def build_packet(packet_id: int, first: int, params: bytes = b"") -> bytes:
    """`first` is the instruction (host to servo) or the error byte (a status packet)."""
    body = bytes([packet_id, len(params) + 2, first]) + params
    return HEADER + body + bytes([checksum(body)])


def build_status(servo_id: int, error: int, params: bytes = b"") -> bytes:
    return build_packet(servo_id, error, params)


class PacketParser:
    """Incremental parser: feed() raw bytes, get complete instruction packets (crc_ok says whether the checksum
    matched). Bytes before a header are skipped, as a servo's firmware does."""

    def __init__(self):
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Instruction]:
        self._buf += data
        out: list[Instruction] = []
        while True:
            start = self._buf.find(HEADER)
            if start < 0:
                del self._buf[:max(0, len(self._buf) - 1)]  # keep a possible first header byte
                return out
            if start:
                del self._buf[:start]
            if len(self._buf) < 4:
                return out
            packet_id, length = self._buf[2], self._buf[3]
            if packet_id == 0xFF or length < 2:
                del self._buf[:1]  # FF FF FF ... or a length no packet has: resync on the next byte
                continue
            total = 4 + length
            if len(self._buf) < total:
                return out
            packet = bytes(self._buf[:total])
            del self._buf[:total]
            ok = checksum(packet[2:-1]) == packet[-1]
            out.append(Instruction(packet_id, packet[4], packet[5:-1], ok, total))

    def reset(self) -> None:
        self._buf.clear()
