"""Fixtures: an emulated Koch follower chain and a DynamixelBus on it, in-process (fast) unless a test says so."""

import pytest

from hardware.motors import DynamixelBus, Motor
from hardware.virtual import ServoChain, serve_inprocess

KOCH = {
    "shoulder_pan": Motor(1, "xl430-w250"), "shoulder_lift": Motor(2, "xl430-w250"),
    "elbow_flex": Motor(3, "xl330-m288"), "wrist_flex": Motor(4, "xl330-m288"),
    "wrist_roll": Motor(5, "xl330-m288"), "gripper": Motor(6, "xl330-m288"),
}
KOCH_SPEC = ",".join(f"{m.id}:{m.model}" for m in KOCH.values())


class FakeClock:
    """Emulator time that only moves when a test says so: motor-model tests are exact, not timing-dependent."""

    def __init__(self, t: float = 100.0):
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, dt: float) -> None:
        self.t += dt


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def chain(clock):
    return ServoChain(KOCH_SPEC, clock=clock)


@pytest.fixture
def link(chain):
    link = serve_inprocess(chain)
    yield link
    link.close()


@pytest.fixture
def bus(link):
    bus = DynamixelBus(link.url, KOCH, latency_ms=1.0)
    bus.connect()
    yield bus
    bus.disconnect()
