"""What the virtual operator does on the virtual rig: unplug/replug an arm's USB cable, connect one
factory-new motor at a time, or break something on purpose for the doctor to find."""

from __future__ import annotations

from hardware.arms import ArmProfile
from hardware.discovery import SerialPortInfo, register_virtual_port, unregister_virtual_port
from hardware.motors.tables import HW_OVERLOAD
from hardware.virtual import ServoChain, serve_inprocess

from .prompter import VirtualOperator


def find_port_operator(ports: list[SerialPortInfo], which: int = 0, out=print) -> VirtualOperator:
    """Operator whose unplug/replug removes and restores ports[which] from the listing."""
    target = ports[which]
    return VirtualOperator({"unplug": lambda: unregister_virtual_port(target.device),
                            "replug": lambda: register_virtual_port(target)}, out=out)


class MotorBench:
    """A controller board on an emulated port, with a box of factory-new motors (id 1, 57600 bps): the
    operator connects them one at a time, as setup-motors asks."""

    def __init__(self, profile: ArmProfile):
        self.profile = profile
        self.link = serve_inprocess(ServoChain({}))
        self.configured: dict[str, ServoChain] = {}

    @property
    def port(self) -> str:
        return self.link.url

    def operator(self, out=print) -> VirtualOperator:
        actions = {f"connect:{j.name}": (lambda j=j: self._connect(j.name, j.model)) for j in self.profile.joints}
        return VirtualOperator(actions, out=out)

    def _connect(self, name: str, model: str) -> None:
        chain = ServoChain({1: model}, baudrate=57_600)
        self.configured[name] = chain
        self.link.chain = chain

    def close(self) -> None:
        self.link.close()


def parse_injections(text: str):
    """'hot:wrist_flex,unplug:elbow_flex,overload:gripper' -> a function that applies them to a VirtualArm."""
    kinds = {"hot", "unplug", "overload"}
    items = []
    for part in filter(None, (s.strip() for s in text.split(","))):
        kind, _, joint = part.partition(":")
        if kind not in kinds or not joint:
            raise ValueError(f"bad injection {part!r}; use e.g. hot:wrist_flex, unplug:elbow_flex, overload:gripper")
        items.append((kind, joint))

    def apply(virtual_arm) -> None:
        for kind, joint in items:
            servo = virtual_arm.servo(joint)
            if kind == "hot":
                servo.temperature = servo.get("Temperature_Limit") - 5.0
            elif kind == "overload":
                servo.raise_hardware_error(HW_OVERLOAD)
            else:
                servo.plugged = False
    return apply
