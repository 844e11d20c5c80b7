"""Host checks: what stops a new user in the first hour, found before the arm moves. The port is missing or not
the user's to open; the USB latency timer makes every read slow; the leader's and follower's supplies are swapped;
a motor does not answer or two share an id; cameras share a USB 2 bus they cannot all get. Each problem is one line
that names the port, arm or motor and the fix (`robotapp doctor --host`, and quietly before a real arm connects)."""

from .camera_bandwidth import CameraTarget, check_cameras, describe_cameras, usb_bus
from .motor_wiring import PingReplies, broadcast_ping, check_motors, parse_ping_replies, supply_problems
from .port_access import check_port, may_open
from .preflight import ArmTarget, HostEnv, HostReport, check_arm, check_host, preflight
from .problem import HostCheckError, Problem, arm_label
from .usb_latency import UDEV_RULE, check_latency, latency_file

__all__ = ["CameraTarget", "check_cameras", "describe_cameras", "usb_bus", "PingReplies", "broadcast_ping", "check_motors",
           "parse_ping_replies", "supply_problems", "check_port", "may_open", "ArmTarget", "HostEnv", "HostReport",
           "check_arm", "check_host", "preflight", "HostCheckError", "Problem", "arm_label", "UDEV_RULE",
           "check_latency", "latency_file"]
