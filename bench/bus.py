"""Bus tick benchmark: "sync-read 6 + sync-write 6" (Present_Position in, Goal_Position out) on a Koch follower.

Runs our DynamixelBus (dynamixel-sdk underneath) against the servo emulator in-process and over a pty, with the
wire-timing model off and on at 1 Mbps, in both sync-read flavours (plain: one status packet per servo; fast: one
combined packet), and prints a markdown table next to the theoretical wire time of the same bytes. Return delay
is 0, as the arm setup configures it. Then the same tick on an SO-101 follower: FeetechBus (scservo_sdk) against
the Feetech emulator (six STS3215; the protocol has one sync-read flavour, one status packet per servo).

    .venv/bin/python bench/bus.py [--ticks 2000] [--repeats 3]

With --port PORT --json OUT it runs one series of ticks against a port that is already served (the suite's P1,
next to lerobot's DynamixelMotorsBus on the same emulator): --plain for plain sync read, --units for calibrated
units through the Koch follower Arm (degrees, gripper 0-100).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

from hardware.motors import CommError, DynamixelBus, FeetechBus, Motor  # noqa: E402
from hardware.virtual import FeetechChain, ServoChain, serve_inprocess  # noqa: E402
from hardware.virtual import feetech_protocol as fp  # noqa: E402
from hardware.virtual import protocol as p  # noqa: E402

KOCH = {
    "shoulder_pan": Motor(1, "xl430-w250"), "shoulder_lift": Motor(2, "xl430-w250"),
    "elbow_flex": Motor(3, "xl330-m288"), "wrist_flex": Motor(4, "xl330-m288"),
    "wrist_roll": Motor(5, "xl330-m288"), "gripper": Motor(6, "xl330-m288"),
}
SO101 = {name: Motor(m.id, "sts3215") for name, m in KOCH.items()}
BAUD = 1_000_000


def wire_bytes(fast: bool) -> int:
    """Bytes on the wire for one tick, from the packets themselves (no stuffing needed for these values)."""
    ids = bytes(m.id for m in KOCH.values())
    read = p.build_packet(0xFE, p.FAST_SYNC_READ if fast else p.SYNC_READ, bytes([132, 0, 4, 0]) + ids)
    if fast:
        replies = len(p.build_fast_status([(0, i, bytes(4)) for i in ids]))
    else:
        replies = sum(len(p.build_status(i, 0, bytes(4))) for i in ids)
    write = p.build_packet(0xFE, p.SYNC_WRITE, bytes([116, 0, 4, 0]) + b"".join(bytes([i]) + bytes(4) for i in ids))
    return len(read) + replies + len(write)


def wire_bytes_feetech() -> int:
    """The same tick in Feetech packets: Present_Position at 56 in, Goal_Position at 42 out (2 bytes each)."""
    ids = bytes(m.id for m in SO101.values())
    read = fp.build_packet(fp.BROADCAST_ID, fp.SYNC_READ, bytes([56, 2]) + ids)
    replies = sum(len(fp.build_status(i, 0, bytes(2))) for i in ids)
    write = fp.build_packet(fp.BROADCAST_ID, fp.SYNC_WRITE, bytes([42, 2]) + b"".join(bytes([i, 0, 8]) for i in ids))
    return len(read) + replies + len(write)


def run_ticks(bus, ticks: int) -> np.ndarray:
    goals = np.full(6, 2048)
    times = np.empty(ticks)
    for k in range(ticks):
        t0 = time.perf_counter()
        bus.sync_read("Present_Position")
        bus.sync_write("Goal_Position", goals)
        times[k] = time.perf_counter() - t0
    return times


def run_on_port(port: str, ticks: int, *, fast: bool, units: bool, warmup: int = 200) -> tuple[np.ndarray, int]:
    """One series of ticks on an already-served port. units: through the Arm (calibrated degrees / percent, no
    goal clamp: lerobot's koch follower clamps nothing by default either)."""
    bus = DynamixelBus(port, KOCH, baudrate=BAUD, fast_sync_read=fast)
    bus.connect()
    try:
        for name in KOCH:
            bus.write("Return_Delay_Time", name, 0)
        if units:
            from hardware.arms import Arm
            from hardware.arms.profile import load_profile
            from hardware.arms.units import MotorCalibration

            profile = load_profile("koch-v1.1-follower")
            cal = {j.name: MotorCalibration(j.id, 0, 0, 0, 4095) for j in profile.joints}
            arm = Arm(profile, bus, cal)
            goals = np.where(arm.is_gripper, 50.0, 0.0)

            def tick() -> None:
                arm.read_positions()
                arm.write_goals(goals, clamp=False)
        else:
            goal_raw = np.full(6, 2048)

            def tick() -> None:
                bus.sync_read("Present_Position")
                bus.sync_write("Goal_Position", goal_raw)
        for _ in range(warmup):
            with contextlib.suppress(CommError):
                tick()
        times, failed = [], 0
        for _ in range(ticks):
            t0 = time.perf_counter()
            try:
                tick()
            except CommError:  # no answer after the bus's retries: counted, not timed
                failed += 1
                continue
            times.append(time.perf_counter() - t0)
    finally:
        bus.disconnect()
    return np.array(times), failed


def measure(transport: str, timing: bool, fast: bool, ticks: int, repeats: int, feetech: bool = False) -> dict:
    """in-process: emu:// link, emulator runs inside bus calls. pty: `robotapp emulate` in its own process, as a
    real servo chain is its own device (sharing a process would add GIL contention no real rig has).
    feetech: the SO-101 follower on FeetechBus instead of the Koch's on DynamixelBus (`fast` is ignored)."""
    proc = link = None
    motors = SO101 if feetech else KOCH
    if transport == "pty":
        cmd = [sys.executable, "-m", "robotapp", "emulate", "--baud", str(BAUD),
               "--protocol", "feetech" if feetech else "dynamixel",
               "--motors", ",".join(f"{m.id}:{m.model}" for m in motors.values())] + ([] if timing else ["--no-timing"])
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        port = proc.stdout.readline().strip().removeprefix("port: ")
    else:
        chain = (FeetechChain if feetech else ServoChain)({m.id: m.model for m in motors.values()}, baudrate=BAUD,
                                                          wire_timing=timing)
        link = serve_inprocess(chain)
        port = link.url
    bus = FeetechBus(port, SO101, baudrate=BAUD) if feetech else DynamixelBus(port, KOCH, baudrate=BAUD,
                                                                             fast_sync_read=fast)
    bus.connect()
    try:
        for name in motors:
            bus.write("Return_Delay_Time", name, 0)  # as the arm setup configures it
        run_ticks(bus, min(200, ticks))  # warm-up
        runs = [run_ticks(bus, ticks) for _ in range(repeats)]
    finally:
        bus.disconnect()
        if proc:
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=10)
        if link:
            link.close()
    medians = [float(np.median(r)) * 1e6 for r in runs]
    p99s = [float(np.percentile(r, 99)) * 1e6 for r in runs]
    med = statistics.median(medians)
    return {"p50": med, "min": min(medians), "max": max(medians), "p99": statistics.median(p99s),
            "hz": 1e6 / med, "failures": bus.stats.failures}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ticks", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--port", help="run one series on this already-served port (with --json)")
    ap.add_argument("--plain", action="store_true", help="with --port: plain sync read (default: fast)")
    ap.add_argument("--units", action="store_true", help="with --port: calibrated units through the Arm")
    ap.add_argument("--json", help="with --port: write {'ticks_s': [...]} here")
    ap.add_argument("--family", choices=("both", "dynamixel", "feetech"), default="both",
                    help="which arm's table to print (default both)")
    args = ap.parse_args()
    if args.port:
        times, failed = run_on_port(args.port, args.ticks, fast=not args.plain, units=args.units)
        with open(args.json, "w") as f:
            json.dump({"ticks_s": times.tolist(), "failed": failed}, f)
        return
    print(f"machine: {platform.node()} · {os.cpu_count()} cores · {platform.processor() or platform.machine()} · "
          f"Python {platform.python_version()}")
    print(f"command: python bench/bus.py --ticks {args.ticks} --repeats {args.repeats} --family {args.family}\n")
    if args.family != "feetech":
        koch_table(args)
    if args.family != "dynamixel":
        so101_table(args)


def koch_table(args: argparse.Namespace) -> None:
    print("Koch v1.1 follower, 2 x XL430-W250 + 4 x XL330-M288 on DynamixelBus (dynamixel-sdk):\n")
    print("| transport | wire timing | sync read | tick p50 µs (min–max of runs) | tick p99 µs | ticks/s "
          "| wire bytes | theoretical wire µs |")
    print("|---|---|---|---|---|---|---|---|")
    for transport in ("in-process", "pty"):
        for timing in (False, True):
            for fast in (False, True):
                r = measure(transport, timing, fast, args.ticks, args.repeats)
                nbytes = wire_bytes(fast)
                print(f"| {transport} | {'on' if timing else 'off'} | {'fast' if fast else 'plain'} "
                      f"| {r['p50']:.0f} ({r['min']:.0f}–{r['max']:.0f}) | {r['p99']:.0f} | {r['hz']:.0f} "
                      f"| {nbytes} | {nbytes * 10e6 / BAUD:.0f} |", flush=True)


def so101_table(args: argparse.Namespace) -> None:
    print("\nSO-101 follower, 6 x STS3215 on FeetechBus (scservo_sdk), Feetech emulator:\n")
    print("| transport | wire timing | sync read | tick p50 µs (min–max of runs) | tick p99 µs | ticks/s "
          "| wire bytes | theoretical wire µs |")
    print("|---|---|---|---|---|---|---|---|")
    nbytes = wire_bytes_feetech()
    for transport in ("in-process", "pty"):
        for timing in (False, True):
            r = measure(transport, timing, False, args.ticks, args.repeats, feetech=True)
            print(f"| {transport} | {'on' if timing else 'off'} | feetech "
                  f"| {r['p50']:.0f} ({r['min']:.0f}–{r['max']:.0f}) | {r['p99']:.0f} | {r['hz']:.0f} "
                  f"| {nbytes} | {nbytes * 10e6 / BAUD:.0f} |", flush=True)


if __name__ == "__main__":
    main()
