"""The arm's motors against its profile, before anything is written to them: every id answers once, with the
model the profile expects, on a supply its motors take. Either servo family: the profile's (its bus, its models,
its supply register, the rates a factory-new motor of it may sit at).

Duplicate ids: two motors that share an id both answer every packet to it, and their replies collide on the wire,
so what the host gets depends on their timing: a garbled packet (bad CRC, cut short), two packets, or (in perfect
step, with identical bytes) one clean packet, which nothing on the wire can tell from a single motor. A broadcast
ping shows the first two, so it is read raw here: dynamixel-sdk's broadcastPing keeps one entry per id and drops
garbled packets. The SDK still builds and sends the ping; only the replies are split here. On Feetech the SDK's
own rxPacket splits them (FeetechBus.ping_replies), one packet at a time, so nothing is parsed here."""

from __future__ import annotations

import contextlib
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import serial
from dynamixel_sdk import BROADCAST_ID, COMM_SUCCESS, PacketHandler
from dynamixel_sdk.protocol2_packet_handler import INST_PING, PKT_ID, PKT_INSTRUCTION, PKT_LENGTH_L

from hardware.arms.family import ServoFamily
from hardware.arms.profile import ArmProfile, JointSpec
from hardware.motors.feetech import FeetechBus
from hardware.motors.motor_errors import CommError, MotorsError, PortError, port_problem
from hardware.motors.ports import UrlPortHandler
from hardware.motors.sdk_bus import SdkBus
from hardware.motors.tables import ModelSpec

from .problem import Problem, arm_label

_HEADER = b"\xff\xff\xfd\x00"
_STATUS = 0x55


@dataclass
class PingReplies:
    replies: list[tuple[int, int]]  # (id, model number) of each clean status packet, in arrival order
    garbled: int  # status packets that arrived broken

    def counts(self) -> Counter[int]:
        return Counter(i for i, _ in self.replies)


def broadcast_ping(port: str, baudrate: int, *, max_id: int = 252, latency_ms: float = 16.0) -> PingReplies:
    """Every status packet that answers one broadcast ping. X-series servos answer in turn by id (the SDK allows
    3 ms an id), so the wait covers ids up to max_id, then lasts while bytes still arrive."""
    handler = UrlPortHandler(port, latency_ms=latency_ms)
    handler.baudrate = baudrate
    try:
        handler.openPort()
    except (serial.SerialException, OSError, ValueError) as e:
        raise PortError(port_problem(port, e), port=port) from None
    try:
        ph = PacketHandler(2.0)
        tx = [0] * 10
        tx[PKT_ID], tx[PKT_LENGTH_L], tx[PKT_INSTRUCTION] = BROADCAST_ID, 3, INST_PING
        result = ph.txPacket(handler, tx)
        handler.is_using = False  # the SDK leaves the port "in use" until the replies are read
        if result != COMM_SUCCESS:
            raise CommError(f"port {port}: broadcast ping not sent: {ph.getTxRxResult(result)}", port=port)
        window = 3e-3 * (max_id + 1) + 2e-3 * latency_ms + 0.02
        return parse_ping_replies(_read_window(handler.ser, window))
    finally:
        handler.closePort()


def ping_replies(port: str, family: ServoFamily, baudrate: int, *, max_id: int, latency_ms: float = 16.0
                 ) -> PingReplies:
    """The family's broadcast ping, every reply kept (an id twice: two motors share it)."""
    if family.bus_class is not FeetechBus:
        return broadcast_ping(port, baudrate, max_id=max_id, latency_ms=latency_ms)
    bus = FeetechBus(port, baudrate=baudrate, latency_ms=latency_ms)
    bus.connect(handshake=False)
    try:
        ids, garbled = bus.ping_replies()  # the wait for every id: at 1 Mbps a few ms more than for max_id
        models = {i: bus.model_number(i) for i in sorted(set(ids))}
    finally:
        bus.disconnect()
    # an id whose model read failed (two motors answering it at once) still counts; its model is asked for again
    return PingReplies([(i, models[i] if models[i] is not None else -1) for i in ids], garbled)


def _read_window(ser, window: float) -> bytes:
    """Bytes until the window ends, and on while they keep coming (a reply cut off mid-packet would read as
    garbled), at most twice the window."""
    ser.timeout = 0.005
    start = time.monotonic()
    data = bytearray()
    while True:
        chunk = ser.read(4096)
        data += chunk
        elapsed = time.monotonic() - start
        if elapsed >= 2 * window or (not chunk and elapsed >= window):
            return bytes(data)


def parse_ping_replies(data: bytes) -> PingReplies:
    ph = PacketHandler(2.0)
    replies, garbled, i = [], 0, 0
    while (h := data.find(_HEADER, i)) >= 0:
        if h + 7 > len(data):
            garbled += 1
            break
        length = data[h + 5] | data[h + 6] << 8
        end = h + 7 + length
        packet = data[h:end]
        ok = (length == 7 and end <= len(data) and packet[7] == _STATUS
              and ph.updateCRC(0, list(packet), len(packet) - 2) == packet[-2] | packet[-1] << 8)
        if not ok:
            garbled += 1
            i = h + 3  # resync on the next header inside it
            continue
        replies.append((packet[4], packet[9] | packet[10] << 8))
        i = end
    return PingReplies(replies, garbled)


def check_motors(port: str, profile: ArmProfile, *, role: str | None = None, latency_ms: float = 16.0,
                 setup_command: str | None = None) -> tuple[list[Problem], list[str]]:
    """(problems, notes): supply first (the one that burns motors), then shared, missing, unexpected ids."""
    role = role or profile.role
    label = arm_label(role, port)
    setup = setup_command or f"robotapp setup-motors --arm {role}"
    joints = {j.id: j for j in profile.joints}
    family = profile.servo_family
    tables = family.tables
    heard = ping_replies(port, family, profile.baudrate, max_id=max(joints), latency_ms=latency_ms)
    models = {i: n for i, n in heard.replies if n >= 0}
    bus = family.bus_class(port, profile.motors, baudrate=profile.baudrate, latency_ms=latency_ms)
    bus.connect(handshake=False)
    try:
        for j in profile.joints:  # a reply lost from the broadcast is asked for again, one motor at a time
            if j.id not in models and (number := bus.ping(j.id, retries=2)) is not None:
                models[j.id] = number
        answering = [j for j in profile.joints if j.id in models]
        if not answering:
            return [_nothing_answers(bus, label, profile, setup)], []
        readings = []
        for j in answering:
            # a motor that stops answering mid-check is named by the lines below or by the next run
            with contextlib.suppress(MotorsError):
                readings.append((j, _spec(models[j.id], j, family), bus.read(family.voltage_register, j.name) / 10.0))
    finally:
        bus.disconnect()
    problems = supply_problems(label, role, readings)
    counts = heard.counts()
    for i, n in sorted(counts.items()):
        if n > 1:
            name = f" ({joints[i].name})" if i in joints else ""
            problems.append(Problem(f"{label}: {n} motors answer at id {i}{name}: every command reaches all of them: "
                                    f"connect them one at a time and give each its own id with `{setup}`",
                                    "duplicate_id"))
    if heard.garbled and not any(n > 1 for n in counts.values()):
        problems.append(Problem(f"{label}: {heard.garbled} garbled repl{'y' if heard.garbled == 1 else 'ies'} to a "
                                f"broadcast ping: two motors may share an id (their replies collide) or the cable is "
                                f"noisy; if it happens again, connect the motors one at a time and run `{setup}`",
                                "garbled", fatal=False))
    for j in profile.joints:
        if j.id not in models:
            problems.append(Problem(f"{label}: motor id {j.id} ({j.name}) does not answer: check its cable and that "
                                    f"it was set up ({setup})", "missing_id"))
        elif models[j.id] != tables.get_model(j.model).number:
            problems.append(Problem(f"{label}: motor id {j.id} ({j.name}) is {_a(_model(models[j.id], family))} but the "
                                    f"profile {profile.name} expects a {j.model}: swap the motor or use a profile "
                                    f"that has it", "wrong_model", fatal=False))
    for i in sorted(set(counts) - set(joints)):
        problems.append(Problem(f"{label}: {_a(_model(models.get(i, -1), family))} answers at id {i}, which profile "
                                f"{profile.name} does not have: if it belongs to this arm, give it its id with "
                                f"`{setup}`",
                                "unknown_id", fatal=False))
    return problems, [_summary(label, answering, readings)]


def supply_problems(label: str, role: str | None, readings: Sequence[tuple[JointSpec, ModelSpec, float]]
                    ) -> list[Problem]:
    """One line per motor family outside its factory voltage limits (the range at which the motor itself flags
    an input voltage error: XL330 3.5-7.0 V, XL430 6.0-14.0 V, STS3215 4.0-8.0 V). Those are wide enough for a 12 V
    adapter that reads 12.3 V on an XL430, and a swapped supply is off by 7 V either way (4.6 V on an STS3215)."""
    groups: dict[tuple[str, int], list[float]] = {}
    for _, spec, volts in readings:
        lo, hi = spec.defaults["Min_Voltage_Limit"] / 10.0, spec.defaults["Max_Voltage_Limit"] / 10.0
        if not lo <= volts <= hi:
            groups.setdefault((_family(spec), spec.supply_decivolts), []).append(volts)
    into = f"the {role}" if role else "this arm"
    out = []
    for (family, nominal), volts in groups.items():
        rated = f"{nominal / 10.0:g} V"
        out.append(Problem(f"{label}: supply {statistics.median(volts):.1f} V but its {family} motors take {rated}: "
                           f"plug the {rated} supply into {into}", "supply"))
    return out


def _nothing_answers(bus: SdkBus, label: str, profile: ArmProfile, setup: str) -> Problem:
    family = profile.servo_family
    ids = sorted({j.id for j in profile.joints} | {family.factory_id})  # where a factory-new motor sits
    # the other rates, the factory's first
    found = bus.scan([b for b in family.scan_baudrates if b != profile.baudrate], ids=ids)
    if not found:
        return Problem(f"{label}: no motor answers at any baud rate: check that the arm's power supply is plugged in "
                       f"and the cable from the adapter board to the first motor", "no_motors")
    bps, hits = next(iter(found.items()))
    who = ", ".join(f"id {i} ({family.model_name(n)})" for i, n in hits.items())
    return Problem(f"{label}: no motor answers at {profile.baudrate} bps, but {who} at {bps} bps: set the motors up "
                   f"with `{setup}`", "no_motors")


def _summary(label: str, answering: list[JointSpec], readings) -> str:
    ids = ", ".join(str(j.id) for j in answering)
    by_family: dict[str, list[float]] = {}
    for _, spec, volts in readings:
        by_family.setdefault(_family(spec), []).append(volts)
    supply = ", ".join(f"{statistics.median(v):.1f} V ({f})" for f, v in by_family.items())
    return f"{label}: {len(answering)} motor{'s' if len(answering) != 1 else ''} answer (ids {ids})" + \
        (f", supply {supply}" if supply else "")


def _spec(number: int, joint: JointSpec, family: ServoFamily) -> ModelSpec:
    """The answering motor's own model when known (its limits are what matter), else the profile's."""
    return family.tables.MODEL_BY_NUMBER.get(number) or family.tables.get_model(joint.model)


def _a(name: str) -> str:
    return f"an {name}" if name.startswith("unknown") else f"a {name}"


def _model(number: int, family: ServoFamily) -> str:
    return family.model_name(number) if number >= 0 else f"{family.name.capitalize()} motor (model not read)"


def _family(spec: ModelSpec) -> str:
    return spec.name.split("-")[0].upper()
