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
from dynamixel_sdk import COMM_SUCCESS, PortHandler, port_handler
from dynamixel_sdk.protocol2_packet_handler import PKT_ID, Protocol2PacketHandler

class Listening(Protocol2PacketHandler):  # the plain SDK, noting the id of every status packet it receives
    heard = []
    def rxPacket(self, port, fast_option):
        rx, r = super().rxPacket(port, fast_option)
        if r == COMM_SUCCESS:
            self.heard.append(rx[PKT_ID])
        return rx, r

# The SDK waits 2 x LATENCY_TIMER + 2 ms for a status packet: 34 ms, sized for a USB adapter. This link's latency is
# the emulator thread's turn on the CPU and the GIL of the process serving it, which on a loaded machine can exceed
# that many times over. So, as a script on a slow link would, set the latency timer to the link: wait for every reply
# (up to 5 s, a deadline rather than a pace) instead of timing out and retrying, which without sequence numbers
# would take a late reply for the next call's answer.
port_handler.LATENCY_TIMER = 2500
port = PortHandler(sys.argv[1]); ph = Listening()
assert port.openPort() and port.setBaudRate(1000000)
out = {}
out["model"], r, _ = ph.ping(port, 3); assert r == COMM_SUCCESS, ph.getTxRxResult(r)
out["position"], r, _ = ph.read4ByteTxRx(port, 3, 132); assert r == COMM_SUCCESS, ph.getTxRxResult(r)
r, err = ph.write4ByteTxRx(port, 3, 20, 4294967196)  # Homing_Offset = -100 (unsigned on the wire)
assert r == COMM_SUCCESS and err == 0, (ph.getTxRxResult(r), err)
out["offset"], r, _ = ph.read4ByteTxRx(port, 3, 20); assert r == COMM_SUCCESS, ph.getTxRxResult(r)
# No servo 99: its ping times out at the SDK's own 34 ms. Had anything answered it, even late, that answer would
# come back before the answer to the next ping (the chain replies in order), which is waited for; `heard` shows it.
port_handler.LATENCY_TIMER = 16
out["missing"] = ph.ping(port, 99)[1] != COMM_SUCCESS
port_handler.LATENCY_TIMER = 2500
out["after"], r, _ = ph.ping(port, 3); assert r == COMM_SUCCESS, ph.getTxRxResult(r)
out["heard"] = ph.heard
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
    assert out["model"] == 1200 and out["after"] == 1200
    assert out["position"] == 2048
    assert out["offset"] == 4294967196 and chain.servo(3).get("Homing_Offset") == -100
    assert out["missing"] is True
    assert out["heard"] == [3, 3, 3, 3, 3]  # one status packet per call to servo 3, none from 99


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
