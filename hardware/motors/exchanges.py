"""Exchanges with the servos: an instruction and its status packet(s), tried up to 1 + retries times, every failed
attempt counted by cause in the bus's BusStats.

Both buses (DynamixelBus, FeetechBus) run every instruction through the one retry loop here. The SDKs agree on
COMM_SUCCESS (0) only: each bus gives its SDK's codes for a timeout and a corrupt packet. The sync-read receivers live here too because they count: they account for every motor's reply (the
SDK's receiver stops at the first bad one, which hides the others and makes the counters impossible to reconcile).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from dynamixel_sdk import COMM_RX_CORRUPT, COMM_RX_TIMEOUT, COMM_SUCCESS, PacketHandler

from .bus import BusStats
from .ports import UrlPortHandler

STATUS_OVERHEAD = 11  # header(4) id(1) len(2) instr(1) err(1) crc(2)
_PARAM0 = 8

T = TypeVar("T")


class Exchanges:
    def __init__(self, ph: PacketHandler, stats: BusStats, *, rx: Callable | None = None, id_index: int = 4,
                 error_index: int = _PARAM0, codes: tuple[int, int] = (COMM_RX_TIMEOUT, COMM_RX_CORRUPT)):
        """rx(port) -> (packet, result) receives one status packet (default: dynamixel-sdk's); in a status packet
        the id is at id_index and the error byte at error_index, the data right after it; codes: the SDK's
        results for a timeout and a corrupt packet."""
        self.rx_timeout, self.rx_corrupt = codes
        self.ph = ph
        self.stats = stats
        self.rx = rx or (lambda port: ph.rxPacket(port, False))
        self.id_index, self.error_index = id_index, error_index

    def run(self, port: UrlPortHandler, attempt: Callable[[], tuple[int | None, T]], tries: int, *,
            settle_bytes: int | None = None, fail: Callable[[int | None, T | None], Exception] | None = None
            ) -> T | None:
        """Call `attempt` (one instruction and its reply; returns (SDK result, payload)) until its result is
        COMM_SUCCESS, at most `tries` times, and return that payload. A failed attempt is counted by its result's
        cause; a result of None means the attempt counted its own faults. Before a retry, with `settle_bytes`, the
        replies still on the wire are let in and dropped. When every attempt failed: None without `fail`, else the
        call is counted as a failure and the exception fail(last result, last payload) is raised."""
        result: int | None = COMM_SUCCESS
        payload: T | None = None
        for n in range(tries):
            if n:
                self.stats.retries += 1
                if settle_bytes is not None:
                    self.settle(port, settle_bytes)
            self.stats.transactions += 1
            result, payload = attempt()
            if result == COMM_SUCCESS:
                return payload
            self.count(result)
        if fail is None:
            return None
        self.stats.failures += 1
        raise fail(result, payload)

    def count(self, result: int | None) -> None:
        if result == self.rx_timeout:
            self.stats.timeouts += 1
        elif result == self.rx_corrupt:
            self.stats.crc_errors += 1

    @staticmethod
    def settle(port: UrlPortHandler, expected_bytes: int) -> None:
        """Before a retry, let replies still on the wire arrive, then drop them, so a late packet from the
        failed attempt is never taken as the answer to the next one."""
        time.sleep(expected_bytes * port.tx_time_per_byte / 1000.0 + 0.0005)
        port.clearPort()

    def receive_each(self, port: UrlPortHandler, ids: tuple[int, ...], size: int) -> dict[int, tuple[int, bytes]]:
        """Collect one status packet per motor after a Sync Read: {id: (error byte, data)}; each missing or bad
        one is counted by cause."""
        got: dict[int, tuple[int, bytes]] = {}
        bad = 0
        while len(got) + bad < len(ids):
            pkt, result = self.rx(port)
            if result == COMM_SUCCESS:
                motor_id, e = pkt[self.id_index], self.error_index
                if motor_id in ids and motor_id not in got:
                    got[motor_id] = pkt[e], bytes(pkt[e + 1:e + 1 + size])
                continue
            if result == self.rx_corrupt and port.packet_timeout != 0:  # a whole packet with a bad CRC
                self.stats.crc_errors += 1
                bad += 1
                continue
            if result == self.rx_corrupt:  # the time ran out with part of a packet in hand
                self.stats.corrupt += 1
                bad += 1
            break
        self.stats.timeouts += max(0, len(ids) - len(got) - bad)
        return got

    def receive_fast(self, port: UrlPortHandler, ids: tuple[int, ...], size: int) -> dict[int, tuple[int, bytes]]:
        """Fast Sync Read: one combined status packet of (err, id, data, crc) blocks; {id: (error byte, data)}.
        We unstuff it ourselves: the SDK's fast path skips byte unstuffing, which would shift every field after a
        stuffed FD."""
        pkt, result = self.ph.rxPacket(port, True)
        if result != COMM_SUCCESS:
            self.count(result)
            return {}
        pkt = self.ph.removeStuffing(pkt)
        got: dict[int, tuple[int, bytes]] = {}
        block = size + 4
        for k in range(len(ids)):
            start = _PARAM0 + k * block
            if start + block > len(pkt):
                break
            motor_id = pkt[start + 1]
            if motor_id in ids:
                got[motor_id] = pkt[start], bytes(pkt[start + 2:start + 2 + size])
        if len(got) < len(ids):
            self.stats.corrupt += 1
        return got
