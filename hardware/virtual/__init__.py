"""The virtual rig: emulated servos speaking real bytes (Dynamixel Protocol 2.0, Feetech STS), and the world behind them."""

import os
import sys

# offscreen rendering, set before anything imports mujoco: EGL exists on Linux only; macOS has CGL, Windows WGL
HEADLESS_GL = "cgl" if sys.platform == "darwin" else "wgl" if sys.platform == "win32" else "egl"
os.environ.setdefault("MUJOCO_GL", HEADLESS_GL)

import serial  # noqa: E402

from .chain import ServoChain, parse_motor_spec  # noqa: E402
from .faults import FaultConfig, FaultInjector  # noqa: E402
from .feetech_chain import FeetechChain  # noqa: E402
from .servo import VirtualServo  # noqa: E402
from .transports import InProcessLink, PtyServer, serve_inprocess  # noqa: E402

if "hardware.virtual" not in serial.protocol_handler_packages:
    serial.protocol_handler_packages.append("hardware.virtual")  # makes emu://<name> openable by pyserial

__all__ = ["ServoChain", "FeetechChain", "parse_motor_spec", "FaultConfig", "FaultInjector", "VirtualServo",
           "InProcessLink", "PtyServer", "serve_inprocess"]
