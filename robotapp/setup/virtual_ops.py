"""What the virtual operator does on the virtual rig: unplug/replug an arm's USB cable, connect one
factory-new motor at a time, or break something on purpose for the doctor to find."""

from __future__ import annotations

from hardware.arms import ArmProfile
from hardware.discovery import SerialPortInfo, register_virtual_port, unregister_virtual_port
from hardware.motors import feetech_tables
from hardware.motors import tables as dxl_tables
from hardware.virtual import ServoChain, serve_inprocess
from hardware.virtual.arms import CHAINS

from .prompter import VirtualOperator

# per servo family: the overload error bit, and the register a servo shuts down at (temperature)
_OVERLOAD = {"dynamixel": dxl_tables.HW_OVERLOAD, "feetech": feetech_tables.ERR_OVERLOAD}
_TEMPERATURE_LIMIT = {"dynamixel": "Temperature_Limit", "feetech": "Max_Temperature_Limit"}


def find_port_operator(ports: list[SerialPortInfo], which: int = 0, out=print) -> VirtualOperator:
    """Operator whose unplug/replug removes and restores ports[which] from the listing."""
    target = ports[which]
    return VirtualOperator({"unplug": lambda: unregister_virtual_port(target.device),
                            "replug": lambda: register_virtual_port(target)}, out=out)


class MotorBench:
    """A controller board on an emulated port, with a box of factory-new motors of the profile's servo family (id 1
    at 57600 bps on Dynamixel X, at 1000000 bps on the STS3215): the operator connects them one at a time, as
    setup-motors asks. `box` changes what the operator connects for a joint: a list of models, all factory-new
    (two of them: two motors on the wire at once, both at id 1)."""

    def __init__(self, profile: ArmProfile, box: dict[str, list[str]] | None = None):
        self.profile = profile
        self.family = profile.servo_family
        self.box = {j.name: [j.model] for j in profile.joints} | dict(box or {})
        self.link = serve_inprocess(CHAINS[profile.family]({}))
        self.configured: dict[str, ServoChain] = {}

    @property
    def port(self) -> str:
        return self.link.url

    def operator(self, out=print) -> VirtualOperator:
        actions = {f"connect:{j.name}": (lambda j=j: self.connect(j.name)) for j in self.profile.joints}
        return VirtualOperator(actions, out=out)

    def connect(self, name: str) -> ServoChain:
        """Put the box's motors for joint `name` on the wire, all of them factory-new."""
        models = self.box[name]
        chain = CHAINS[self.profile.family]({k + 1: m for k, m in enumerate(models)},
                                            baudrate=self.family.factory_baudrate)
        for servo in chain.servos:
            servo.set("ID", self.family.factory_id)
        self.configured[name] = chain
        self.link.chain = chain
        return chain

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
        family = virtual_arm.profile.family
        for kind, joint in items:
            servo = virtual_arm.servo(joint)
            if kind == "hot":
                servo.temperature = servo.get(_TEMPERATURE_LIMIT[family]) - 5.0
            elif kind == "overload":
                servo.raise_hardware_error(_OVERLOAD[family])
            else:
                servo.plugged = False
    return apply
