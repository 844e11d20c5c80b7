"""Fault campaigns: the bus returns right values or a typed error, never a wrong value, and its counters
reconcile with what the emulator injected."""

import numpy as np
import pytest

from hardware.motors import CommError
from hardware.virtual import FaultConfig


def _campaign(bus, chain, ticks, seed=0):
    """sync-read Goal_Position (must equal what the previous tick wrote) + sync-write new goals."""
    rng = np.random.default_rng(seed)
    written = rng.integers(0, 4096, 6)
    bus.sync_write("Goal_Position", written)
    ok = errors = wrong = 0
    for _ in range(ticks):
        try:
            got = bus.sync_read("Goal_Position")
            if np.array_equal(got, written):
                ok += 1
            else:
                wrong += 1
        except CommError as e:
            assert e.motors and all(m in bus.motors for m in e.motors)  # the error names real motors
            errors += 1
        written = rng.integers(0, 4096, 6)
        bus.sync_write("Goal_Position", written)
    return ok, errors, wrong


def test_ten_thousand_ticks_with_corrupt_and_lost_replies(bus, chain):
    bus.fast_sync_read = False  # one status packet per motor: every fault is individually visible
    chain.set_faults(FaultConfig(corrupt_crc=0.01, lost_reply=0.005, seed=1))
    ok, errors, wrong = _campaign(bus, chain, 10_000)
    assert wrong == 0
    assert ok / 10_000 >= 0.999
    assert ok + errors == 10_000
    injected = chain.faults.injected
    assert injected["corrupt_crc"] > 400 and injected["lost_reply"] > 200  # ~1 % and ~0.5 % of ~61k replies
    assert bus.stats.crc_errors == injected["corrupt_crc"]
    assert bus.stats.timeouts == injected["lost_reply"]
    assert bus.stats.failures == errors
    # every failed attempt was retried, unless it was the last attempt of a call that raised
    failed_attempts = bus.stats.retries + errors
    assert failed_attempts <= injected["corrupt_crc"] + injected["lost_reply"]


def test_fast_sync_read_under_faults(bus, chain):
    bus.fast_sync_read = True
    chain.set_faults(FaultConfig(corrupt_crc=0.01, lost_reply=0.005, seed=2))
    ok, errors, wrong = _campaign(bus, chain, 3_000, seed=2)
    assert wrong == 0 and ok / 3_000 >= 0.999
    injected = chain.faults.injected
    assert bus.stats.crc_errors == injected["corrupt_crc"] and bus.stats.timeouts == injected["lost_reply"]


@pytest.mark.parametrize("fast", [False, True])
def test_truncated_replies_and_stray_bytes_never_give_wrong_values(bus, chain, fast):
    bus.fast_sync_read = fast
    chain.set_faults(FaultConfig(truncated_reply=0.01, stray_bytes=0.02, seed=3))
    ok, errors, wrong = _campaign(bus, chain, 1_500, seed=3)
    assert wrong == 0 and ok / 1_500 >= 0.99
    assert chain.faults.injected["truncated_reply"] > 0 and chain.faults.injected["stray_bytes"] > 0
    assert bus.stats.retries > 0


@pytest.mark.parametrize("fast,packets_per_attempt", [(False, 6), (True, 1)])
def test_a_dead_line_raises_after_the_configured_retries(bus, chain, fast, packets_per_attempt):
    bus.fast_sync_read = fast  # fast sync read: one combined status packet per attempt instead of six
    chain.set_faults(FaultConfig(lost_reply=1.0))
    with pytest.raises(CommError, match="after 3 attempts"):
        bus.sync_read("Present_Position", retries=2)
    assert bus.stats.retries == 2 and bus.stats.timeouts == 3 * packets_per_attempt
    with pytest.raises(CommError, match=r"reading ID from gripper \(id 6\) failed: there is no status packet"):
        bus.read("ID", "gripper", retries=0)
