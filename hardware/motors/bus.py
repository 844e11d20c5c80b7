"""The MotorsBus interface: a bus knows motor names, ids and models, and nothing about robots.

Values crossing this interface are raw register integers (signed where the register is signed). Calibration
and units live a layer up, in hardware/arms."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields

import numpy as np


@dataclass(frozen=True)
class Motor:
    id: int
    model: str


@dataclass
class BusStats:
    """Counters a user (or the telemetry) can read to judge the wiring. Every failed attempt is counted once
    per motor that failed in it, by cause; `retries` counts repeated attempts, `failures` calls that raised."""

    transactions: int = 0
    retries: int = 0
    timeouts: int = 0  # a motor's status packet never arrived
    crc_errors: int = 0  # a status packet arrived with a bad CRC
    corrupt: int = 0  # a status packet arrived malformed (truncated, garbage)
    status_errors: int = 0  # a motor answered with an error byte
    failures: int = 0

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def reset(self) -> None:
        for f in fields(self):
            setattr(self, f.name, 0)


class MotorsBus(ABC):
    port: str
    motors: dict[str, Motor]
    stats: BusStats

    @abstractmethod
    def connect(self) -> None: ...

    @abstractmethod
    def disconnect(self) -> None: ...

    @property
    @abstractmethod
    def is_connected(self) -> bool: ...

    @abstractmethod
    def ping(self, motor_id: int, *, retries: int | None = None) -> int | None:
        """Model number of the motor at `motor_id`, or None when nothing answers."""

    @abstractmethod
    def scan(self, baudrates: Iterable[int] | None = None, ids: Iterable[int] | None = None
             ) -> dict[int, dict[int, int]]:
        """{baudrate: {id: model_number}} for every baud rate where something answered."""

    @abstractmethod
    def read(self, register: str, motor: str, *, retries: int | None = None) -> int: ...

    @abstractmethod
    def write(self, register: str, motor: str, value: int, *, retries: int | None = None) -> None: ...

    @abstractmethod
    def sync_read(self, register: str, motors: Sequence[str] | None = None, *,
                  retries: int | None = None) -> np.ndarray: ...

    @abstractmethod
    def sync_write(self, register: str, values: Mapping[str, int] | np.ndarray,
                   motors: Sequence[str] | None = None) -> None: ...

    def torque(self, enabled: bool, motors: Sequence[str] | None = None) -> None:
        names = list(motors) if motors is not None else list(self.motors)
        self.sync_write("Torque_Enable", np.full(len(names), int(enabled)), names)

    def __enter__(self):
        self.connect()
        return self

    def __exit__(self, *exc):
        self.disconnect()
