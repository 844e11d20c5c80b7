"""Typed errors for motor buses. Every message is one line and names what is at fault:
the port, the motor (name and id), the register and, for wire failures, the SDK's own result text."""

from __future__ import annotations


class MotorsError(Exception):
    """Base of every motor-bus error."""

    def __init__(self, message: str, *, port: str | None = None, motor: str | None = None,
                 register: str | None = None, sdk_text: str | None = None):
        super().__init__(message)
        self.port, self.motor, self.register, self.sdk_text = port, motor, register, sdk_text


class ConfigError(MotorsError, ValueError):
    """Bad input caught before anything is sent: unknown model/register/motor, value out of range."""

    def __init__(self, message: str, **kw):
        MotorsError.__init__(self, message, **kw)


class UnknownModelError(ConfigError):
    pass


class UnknownRegisterError(ConfigError):
    pass


class UnknownMotorError(ConfigError):
    pass


class ValueRangeError(ConfigError):
    pass


class PortError(MotorsError):
    """The serial port is missing, busy, or refused our settings."""


class NotConnectedError(MotorsError):
    pass


class CommError(MotorsError):
    """No valid answer after all retries: timeout, corrupt packet, or a motor that is not there.

    `motors` lists every motor that failed in the last attempt (a sync read can lose several at once)."""

    def __init__(self, message: str, *, motors: tuple[str, ...] = (), **kw):
        super().__init__(message, **kw)
        self.motors = motors


class MotorStatusError(MotorsError):
    """The motor answered but refused the instruction (status packet error byte), e.g. writing EEPROM with
    torque on, or a value over the register's limit."""

    def __init__(self, message: str, *, error_code: int = 0, **kw):
        super().__init__(message, **kw)
        self.error_code = error_code


class HardwareAlertError(MotorsError):
    """The motor flagged a hardware error (overload, overheating, ...) and has switched its torque off."""

    def __init__(self, message: str, *, bits: int = 0, **kw):
        super().__init__(message, **kw)
        self.bits = bits
