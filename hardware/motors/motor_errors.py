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


# ---------------------------------------------------------------- wording shared by the messages above
STATUS_ERROR_TEXT = {1: "result fail", 2: "instruction error", 3: "CRC error in the instruction",
                     4: "value out of range", 5: "wrong data length", 6: "value over the limit",
                     7: "access denied (EEPROM needs torque off, or the register is read-only)"}


def sdk_reason(sdk_text: str) -> str:
    """'[TxRxResult] There is no status packet!' -> 'there is no status packet'."""
    text = sdk_text.split("]", 1)[-1].strip().rstrip("!")
    return (text[:1].lower() + text[1:]) if text else "unknown error"


def port_problem(port: str, e: Exception) -> str:
    """Why a serial port did not open, in words a user can act on."""
    msg = str(e)
    if "No such file" in msg or "could not open port" in msg and "Errno 2" in msg:
        return f"serial port {port} does not exist (is the arm plugged in? try `robotapp find-port`)"
    if "busy" in msg.lower() or "Errno 16" in msg or "lock" in msg.lower():
        return f"serial port {port} is busy: another program has it open"
    if "Permission denied" in msg or "Errno 13" in msg:
        return f"no permission to open {port} (add yourself to the dialout group, then log in again)"
    return f"cannot open serial port {port}: {msg.splitlines()[0] if msg else type(e).__name__}"
