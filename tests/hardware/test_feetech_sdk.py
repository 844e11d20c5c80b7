"""The Feetech emulator on a pseudo-terminal, driven by the plain vendor SDK (scservo_sdk) in another process, as
any third-party Feetech client would: ping, sync read/write, id and baud changes under the EEPROM lock, and a lost
reply and a corrupt checksum as the SDK reports them."""

import json
import os
import signal
import subprocess
import sys

import pytest

from hardware.virtual import FaultConfig, FeetechChain, PtyServer

SPEC = ",".join(f"{i}:sts3215" for i in range(1, 7))

# Runs a list of steps [name, args...] with the plain SDK and prints one JSON result per step. The latency timer is
# the SDK's packet wait (2 x LATENCY_TIMER + 2 ms): long by default, as a script on a slow link would set it, so a
# busy machine never turns a late reply into a timeout; short where a step expects no reply at all.
SDK_CLIENT = r"""
import json, sys
import scservo_sdk as scs
from scservo_sdk import port_handler
port_path, steps = sys.argv[1], json.loads(sys.argv[2])
port_handler.LATENCY_TIMER = 2500
port = scs.PortHandler(port_path); ph = scs.PacketHandler(0)
assert port.openPort() and port.setBaudRate(1000000)
out = []
for name, *a in steps:
    if name == "latency":
        port_handler.LATENCY_TIMER = a[0]; out.append(None)
    elif name == "baud":
        out.append(port.setBaudRate(a[0]))
    elif name == "ping":
        model, r, err = ph.ping(port, a[0]); out.append([model, r, err])
    elif name == "read2":
        value, r, err = ph.read2ByteTxRx(port, a[0], a[1]); out.append([value, r, err])
    elif name == "write1":
        r, err = ph.write1ByteTxRx(port, a[0], a[1], a[2]); out.append([r, err])
    elif name == "write2":
        r, err = ph.write2ByteTxRx(port, a[0], a[1], a[2]); out.append([r, err])
    elif name == "sync_write2":  # address, {id: value}
        group = scs.GroupSyncWrite(port, ph, a[0], 2)
        for i, v in a[1].items():
            group.addParam(int(i), [scs.SCS_LOBYTE(v), scs.SCS_HIBYTE(v)])
        out.append(group.txPacket())
    elif name == "sync_read2":  # address, [ids]
        group = scs.GroupSyncRead(port, ph, a[0], 2)
        for i in a[1]:
            group.addParam(i)
        r = group.txRxPacket()
        out.append([r, [group.getData(i, a[0], 2) for i in a[1]]])
port.closePort()
print(json.dumps(out))
"""


def sdk(path: str, *steps) -> list:
    run = subprocess.run([sys.executable, "-c", SDK_CLIENT, path, json.dumps(steps)], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.fixture
def served():
    chain = FeetechChain(SPEC, wire_timing=True)
    with PtyServer(chain) as server:
        yield chain, server.path


def test_ping_and_sync_read_write(served):
    chain, path = served
    goals = {1: 100, 2: 900, 3: 2048, 4: 3000, 5: 4095, 6: 0}
    velocity = 300 | 1 << 15  # -300 in sign-magnitude
    out = sdk(path, ["ping", 3], ["sync_write2", 42, goals], ["sync_read2", 42, [1, 2, 3, 4, 5, 6]],
              ["write2", 2, 46, velocity], ["read2", 2, 46], ["sync_read2", 56, [6, 1]])
    assert out[0] == [777, 0, 0]
    assert out[1] == 0 and out[2] == [0, list(goals.values())]
    assert [s.get("Goal_Position") for s in chain.servos] == list(goals.values())
    assert out[3] == [0, 0] and out[4] == [velocity, 0, 0] and chain.servo(2).get("Goal_Velocity") == -300
    assert out[5] == [0, [2048, 2048]]


def test_id_and_baud_changes_under_the_eeprom_lock(served):
    chain, path = served
    # Lock is 1 at power-up: the new id answers at once, but a power cycle brings the saved one back
    out = sdk(path, ["write1", 3, 5, 10], ["ping", 10])
    assert out == [[0, 0], [777, 0, 0]]
    chain.replug(10)
    out = sdk(path, ["ping", 3], ["write1", 3, 55, 0], ["write1", 3, 5, 11], ["write1", 11, 55, 1])
    assert out[0] == [777, 0, 0] and out[1:] == [[0, 0]] * 3
    chain.replug(11)
    assert [s.id for s in chain.servos] == [1, 2, 11, 4, 5, 6]
    # a baud rate change: the servo moves to 500 kbps and is heard there only
    out = sdk(path, ["write1", 1, 55, 0], ["write1", 1, 6, 1], ["baud", 500000], ["ping", 1], ["write1", 1, 55, 1],
              ["latency", 5], ["baud", 1000000], ["ping", 1], ["ping", 2])
    assert out[:2] == [[0, 0], [0, 0]] and out[3] == [777, 0, 0] and out[4] == [0, 0]
    assert out[7][1] == -6 and out[8] == [777, 0, 0]  # COMM_RX_TIMEOUT at 1 Mbps, where servo 2 still answers
    chain.replug(1)
    assert chain.servo(1).baud_value == 1


def test_a_lost_reply_and_a_corrupt_checksum(served):
    chain, path = served
    chain.set_faults(FaultConfig(corrupt_crc=1.0))
    out = sdk(path, ["read2", 4, 56])
    assert out[0][1] == -7  # COMM_RX_CORRUPT: the SDK's checksum check caught it
    chain.set_faults(FaultConfig(lost_reply=1.0))
    out = sdk(path, ["latency", 5], ["read2", 4, 56])
    assert out[1][1] == -6  # COMM_RX_TIMEOUT
    assert chain.faults.injected["lost_reply"] == 1
    chain.set_faults(None)
    assert sdk(path, ["read2", 4, 56]) == [[2048, 0, 0]]


def test_robotapp_emulate_feetech_serves_the_sdk():
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "robotapp", "emulate", "--protocol", "feetech"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        first = proc.stdout.readline().strip()
        assert first.startswith("port: /dev/pts/"), first
        assert "serving 6 servos (1:sts3215," in proc.stdout.readline()
        out = sdk(first.removeprefix("port: "), ["ping", 6], ["write2", 1, 42, 1234], ["read2", 1, 42])
        assert out == [[777, 0, 0], [0, 0], [1234, 0, 0]]
    finally:
        proc.send_signal(signal.SIGINT)
        stdout, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "stopped after 4 instruction packets" in stdout  # the ping is two: PING, then READ of Model_Number
