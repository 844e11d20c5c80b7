"""lerobot's side of P1 (run by the lerobot venv's python): "sync-read 6 + sync-write 6" through lerobot's
DynamixelMotorsBus on a port that a servo emulator (or a real Koch follower) serves.

    $LEROBOT_PYTHON bench/lerobot_side/bus_tick.py --port /dev/pts/N --ticks 2000 --out result.json [--units]

Raw ticks: sync_read("Present_Position", normalize=False, num_retry=3) + sync_write("Goal_Position", {...},
normalize=False); a tick that still raises is counted as failed and left out of the times.
--units: the same calls in calibrated units (degrees, gripper 0-100), as lerobot's koch_follower reads and writes
them, with a calibration given to the bus (homing offset 0, full range). Writes {"ticks_s": [...], "failed": n} as JSON.
Imports only lerobot (and numpy); nothing from this project."""

from __future__ import annotations

import argparse
import contextlib
import json
import time

from lerobot.motors import Motor, MotorCalibration, MotorNormMode
from lerobot.motors.dynamixel import DynamixelMotorsBus

RETRIES = 3  # as many as our bus makes by default: an emulator process on a loaded machine can answer late

KOCH_FOLLOWER = {  # lerobot's koch_follower.py motor map
    "shoulder_pan": (1, "xl430-w250"), "shoulder_lift": (2, "xl430-w250"), "elbow_flex": (3, "xl330-m288"),
    "wrist_flex": (4, "xl330-m288"), "wrist_roll": (5, "xl330-m288"), "gripper": (6, "xl330-m288"),
}


def connect(bus: DynamixelMotorsBus, attempts: int = 5) -> None:
    """connect() pings every motor once, without retries: on a loaded machine the emulator's process can answer
    a ping late, so the handshake is tried again (a user would simply re-run)."""
    for k in range(attempts):
        try:
            bus.connect()  # pings every motor and checks its model number
            return
        except (ConnectionError, RuntimeError):
            if bus.port_handler.is_open:
                bus.port_handler.closePort()
            if k == attempts - 1:
                raise
            time.sleep(0.2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", required=True)
    ap.add_argument("--ticks", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--units", action="store_true", help="calibrated units (normalize=True)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    motors = {name: Motor(i, model, MotorNormMode.RANGE_0_100 if name == "gripper" else MotorNormMode.DEGREES)
              for name, (i, model) in KOCH_FOLLOWER.items()}
    calibration = {name: MotorCalibration(id=m.id, drive_mode=0, homing_offset=0, range_min=0, range_max=4095)
                   for name, m in motors.items()}
    bus = DynamixelMotorsBus(args.port, motors, calibration=calibration)
    connect(bus)
    try:
        for name in motors:  # what koch_follower.configure() does first (configure_motors), with retries
            bus.write("Return_Delay_Time", name, 0, num_retry=RETRIES)
        norm = args.units
        goals = {name: (0.0 if name != "gripper" else 50.0) if norm else 2048 for name in motors}

        def tick() -> None:
            bus.sync_read("Present_Position", normalize=norm, num_retry=RETRIES)
            bus.sync_write("Goal_Position", goals, normalize=norm)

        for _ in range(args.warmup):
            with contextlib.suppress(ConnectionError):
                tick()
        times, failed = [], 0
        for _ in range(args.ticks):
            t0 = time.perf_counter()
            try:
                tick()
            except ConnectionError:  # no answer after the retries: counted, not timed
                failed += 1
                continue
            times.append(time.perf_counter() - t0)
    finally:
        bus.disconnect(disable_torque=False)
    with open(args.out, "w") as f:
        json.dump({"ticks_s": times, "failed": failed}, f)


if __name__ == "__main__":
    main()
