"""Fault injection on status packets: what a bad cable, a noisy supply or a loose connector does to replies.

Each reply packet gets at most one fault, drawn with the configured probabilities, so the injected counts are
exact and a test can reconcile them with the bus's counters. `voltage` is not a probability: it is the supply the
servos see (a 12 V adapter on a 5 V arm), read back in Present_Input_Voltage; the chain applies it."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

FAULT_KINDS = ("lost_reply", "corrupt_crc", "truncated_reply", "stray_bytes")
MAX_VOLTAGE = 30.0  # no Dynamixel supply comes near it; a typo (voltage=120) is refused


@dataclass
class FaultConfig:
    corrupt_crc: float = 0.0  # the reply arrives with a wrong CRC
    lost_reply: float = 0.0  # the reply never arrives
    truncated_reply: float = 0.0  # the reply stops part-way
    stray_bytes: float = 0.0  # noise bytes arrive before the reply
    seed: int | None = None
    voltage: float | None = None  # every servo's supply in volts; None: each model's own (tables.py)

    def __post_init__(self):
        for kind in FAULT_KINDS:
            v = getattr(self, kind)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"fault probability {kind}={v} must be within 0..1")
        if sum(getattr(self, k) for k in FAULT_KINDS) > 1.0:
            raise ValueError("fault probabilities add up to more than 1")
        if self.voltage is not None and not 0.0 < self.voltage <= MAX_VOLTAGE:
            raise ValueError(f"supply voltage={self.voltage} must be above 0 and at most {MAX_VOLTAGE:g} V")

    @classmethod
    def parse(cls, text: str) -> FaultConfig:
        """'corrupt_crc=0.01,lost_reply=0.005,seed=3' -> FaultConfig; an error names the setting at fault."""
        kw: dict[str, float | int] = {}
        for part in filter(None, (s.strip() for s in text.split(","))):
            key, sep, value = (s.strip() for s in part.partition("="))
            if key not in (*FAULT_KINDS, "seed", "voltage"):
                raise ValueError(f"bad fault setting {part!r}: unknown key {key!r}; use {', '.join(FAULT_KINDS)}, "
                                 f"seed or voltage, e.g. corrupt_crc=0.01,lost_reply=0.005")
            if key in kw:
                raise ValueError(f"bad fault setting {part!r}: {key} is given twice")
            if not sep or not value:
                example = {"seed": "1", "voltage": "12.0"}.get(key, "0.01")
                raise ValueError(f"bad fault setting {part!r}: {key} needs a value, e.g. {key}={example}")
            if key == "seed":
                kw[key] = _seed(part, value)
            elif key == "voltage":
                kw[key] = _voltage(part, value)
            else:
                kw[key] = _probability(part, key, value)
        total = sum(v for k, v in kw.items() if k in FAULT_KINDS)
        if total > 1.0:
            raise ValueError(f"bad fault settings {text!r}: the probabilities add up to {total:g}, more than 1")
        return cls(**kw)


def _probability(part: str, key: str, value: str) -> float:
    try:
        p = float(value)
    except ValueError:
        raise ValueError(f"bad fault setting {part!r}: {value!r} is not a number (the probability of a "
                         f"{key.replace('_', ' ')}, 0..1)") from None
    if not 0.0 <= p <= 1.0:  # nan fails this too
        raise ValueError(f"bad fault setting {part!r}: {key} is a probability, within 0..1, got {value}")
    return p


def _voltage(part: str, value: str) -> float:
    try:
        v = float(value)
    except ValueError:
        raise ValueError(f"bad fault setting {part!r}: {value!r} is not a number (the supply in volts, "
                         f"e.g. voltage=12.0)") from None
    if not 0.0 < v <= MAX_VOLTAGE:  # nan fails this too
        raise ValueError(f"bad fault setting {part!r}: the supply must be above 0 and at most {MAX_VOLTAGE:g} V")
    return v


def _seed(part: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"bad fault setting {part!r}: seed must be a whole number, got {value!r}") from None


class FaultInjector:
    def __init__(self, config: FaultConfig | None = None):
        self.config = config or FaultConfig()
        self.rng = random.Random(self.config.seed)
        self.injected: Counter[str] = Counter()
        self.replies = 0

    def apply(self, reply: bytes) -> bytes | None:
        """The reply as it arrives at the host, or None if it is lost."""
        self.replies += 1
        c = self.config
        r = self.rng.random()
        for kind in FAULT_KINDS:
            p = getattr(c, kind)
            if r < p:
                self.injected[kind] += 1
                return self._damage(kind, reply)
            r -= p
        return reply

    def _damage(self, kind: str, reply: bytes) -> bytes | None:
        if kind == "lost_reply":
            return None
        if kind == "corrupt_crc":
            return reply[:-2] + bytes([reply[-2] ^ 0x5A, reply[-1]])
        if kind == "truncated_reply":
            return reply[: self.rng.randrange(1, len(reply))]
        noise = bytes(self.rng.randrange(0, 0xFF) for _ in range(self.rng.randrange(1, 5)))  # never 0xFF
        return noise + reply
