"""The virtual rig: emulated Dynamixel servos speaking real Protocol 2.0 bytes, and (later) the world behind them."""

import serial

from .chain import ServoChain, parse_motor_spec
from .faults import FaultConfig, FaultInjector
from .servo import VirtualServo
from .transports import InProcessLink, PtyServer, serve_inprocess

if "hardware.virtual" not in serial.protocol_handler_packages:
    serial.protocol_handler_packages.append("hardware.virtual")  # makes emu://<name> openable by pyserial

__all__ = ["ServoChain", "parse_motor_spec", "FaultConfig", "FaultInjector", "VirtualServo", "InProcessLink",
           "PtyServer", "serve_inprocess"]
