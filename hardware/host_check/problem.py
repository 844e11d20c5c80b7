"""What a host check finds: one line per problem, naming the port, arm or motor and the fix."""

from __future__ import annotations

from dataclasses import dataclass

from hardware.motors.motor_errors import MotorsError


@dataclass(frozen=True)
class Problem:
    line: str  # the whole message: what is wrong, where, and the fix
    kind: str  # port, permission, latency, supply, missing_id, no_motors, duplicate_id, garbled, wrong_model,
    #            unknown_id, camera_bandwidth
    fatal: bool = True  # opening the arm for torque is refused
    fixed: bool = False  # the check fixed it for this session (the latency timer)


class HostCheckError(MotorsError):
    """Opening a real arm was refused by its pre-connect check; the message is the problem's one line."""

    def __init__(self, problem: Problem, *, port: str | None = None, problems: tuple[Problem, ...] = ()):
        super().__init__(problem.line, port=port)
        self.problem = problem
        self.problems = problems or (problem,)


def arm_label(role: str | None, port: str) -> str:
    """'leader arm (port /dev/ttyUSB0)': how every line about an arm begins."""
    return f"{role} arm (port {port})" if role else f"port {port}"
