"""The emulator on a pseudo-terminal: opened like a USB serial adapter, by our bus and by plain dynamixel-sdk
in another process."""

import json
import os
import signal
import subprocess
import sys

import pytest

from hardware.motors import DynamixelBus, PortError
from hardware.virtual import PtyServer, ServoChain

from .conftest import KOCH, KOCH_SPEC

PLAIN_SDK_CLIENT = r"""
import json, sys
from dynamixel_sdk import PortHandler, PacketHandler, COMM_SUCCESS
port = PortHandler(sys.argv[1]); ph = PacketHandler(2.0)
assert port.openPort() and port.setBaudRate(1000000)
import time
def call(fn, *args):  # as any script on a busy machine would: a late reply is retried, not fatal
    for _ in range(3):
        try:
            *values, r, err = fn(port, *args)
        except IndexError:  # the SDK took the previous call's late reply for this one
            r = -1
        if r == COMM_SUCCESS:
            return (*values, r, err)
        time.sleep(0.1)  # let a late reply arrive, then drop it
        port.clearPort()
    return (*values, r, err)
out = {}
out["model"], r, _ = call(ph.ping, 3); assert r == COMM_SUCCESS, ph.getTxRxResult(r)
out["position"], r, _ = call(ph.read4ByteTxRx, 3, 132); assert r == COMM_SUCCESS, ph.getTxRxResult(r)
r, err = call(ph.write4ByteTxRx, 3, 20, 4294967196)  # Homing_Offset = -100 (unsigned on the wire)
assert r == COMM_SUCCESS and err == 0, (ph.getTxRxResult(r), err)
out["offset"], r, _ = call(ph.read4ByteTxRx, 3, 20)
out["missing"] = ph.ping(port, 99)[1] != COMM_SUCCESS
port.closePort()
print(json.dumps(out))
"""


def test_plain_dynamixel_sdk_in_another_process():
    chain = ServoChain(KOCH_SPEC, wire_timing=True)
    with PtyServer(chain) as server:
        run = subprocess.run([sys.executable, "-c", PLAIN_SDK_CLIENT, server.path], capture_output=True,
                             text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        out = json.loads(run.stdout)
    assert out["model"] == 1200
    assert out["position"] == 2048
    assert out["offset"] == 4294967196 and chain.servo(3).get("Homing_Offset") == -100
    assert out["missing"] is True


def test_our_bus_over_the_pty_with_wire_timing():
    with PtyServer(ServoChain(KOCH_SPEC, wire_timing=True)) as server:
        bus = DynamixelBus(server.path, KOCH, latency_ms=50.0)  # the server thread may wait for a core
        with bus:
            bus.sync_write("Goal_Position", [1, 2, 3, 4, 5, 6])
            assert list(bus.sync_read("Goal_Position")) == [1, 2, 3, 4, 5, 6]
            bus.fast_sync_read = False
            assert list(bus.sync_read("Goal_Position")) == [1, 2, 3, 4, 5, 6]
            assert bus.stats.failures == 0


def test_the_servos_hear_only_the_baud_rate_the_host_set():
    with PtyServer(ServoChain("4:xl330-m077", baudrate=57_600)) as server:
        bus = DynamixelBus(server.path, baudrate=1_000_000, latency_ms=20.0)  # room for a busy scheduler
        with bus:
            assert bus.ping(4) is None
            # a scan pings each id once; on a machine busy with other work a reply can miss its window, and a
            # user would scan again
            found = next((f for f in (bus.scan([1_000_000, 57_600], ids=range(1, 8)) for _ in range(3)) if f), {})
            assert found == {57_600: {4: 1190}}


def test_a_port_already_open_is_reported_busy():
    with PtyServer(ServoChain("1:xl330-m077")) as server:
        first = DynamixelBus(server.path)
        first.connect(handshake=False)
        try:
            with pytest.raises(PortError, match=f"serial port {server.path} is busy"):
                DynamixelBus(server.path).connect()
        finally:
            first.disconnect()


def test_robotapp_emulate_serves_a_port_until_interrupted():
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "robotapp", "emulate", "--motors", "1:xl430-w250,6:xl330-m288"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        first = proc.stdout.readline().strip()
        assert first.startswith("port: /dev/pts/"), first
        bus = DynamixelBus(first.removeprefix("port: "), {"a": KOCH["shoulder_pan"], "b": KOCH["gripper"]},
                           latency_ms=50.0)  # another process answers: allow for a busy machine's scheduling
        with bus:
            assert bus.read("Model_Number", "b") == 1200
            bus.write("Goal_Position", "a", 1234)
            assert bus.read("Goal_Position", "a") == 1234
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "stopped after" in out
