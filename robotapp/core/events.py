"""Events the session publishes (mode and phase changes, saved and dropped episodes, faults) for the CLI and the GUI.

An event is a kind and typed fields; its `message` is one line in plain words for display only, and no code
branches on its wording. The kinds and the reasons are listed here, in one place.

Subscribers are called on the thread that publishes (often the control loop), so they must be quick: the GUI's
subscriber only queues the event for its timer."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from robotapp.core.modes import Mode


class Kind(StrEnum):
    MODE = "mode"  # ModeChanged: the session changed mode
    PHASE = "phase"  # PhaseStarted: a recording's episode or reset period began
    EPISODE_SAVED = "episode_saved"  # EpisodeSaved
    EPISODE_DISCARDED = "episode_discarded"  # EpisodeDiscarded
    RECORDING_DONE = "recording_done"  # RecordingDone: the flow ended and every saved episode is durable
    FAULT = "fault"  # Fault: a motor or internal error put the session in Mode.FAULT
    ESTOP = "estop"  # Stopped: the e-stop acted at once (the ESTOP mode follows at the next tick)
    WATCHDOG = "watchdog"  # Stopped (the loop stalled) or ModeChanged into HOLD (the window's heartbeat stopped)
    ERROR = "error"  # Event: a failure that changes no mode (the follower could not be stopped)
    INFO = "info"  # Event: news (a dataset recovered, a rig opened)


PROBLEMS = frozenset({Kind.FAULT, Kind.ESTOP, Kind.WATCHDOG, Kind.ERROR})  # a run that saw one of these failed


class Reason(StrEnum):
    """Why a mode changed, an episode was dropped or a recording ended."""

    COMMAND = "command"  # asked for: idle, hold, teleop, record, replay, policy
    ALIGNING = "aligning"  # teleop or record asked for with align: the follower moves onto the leader first
    ALIGNED = "aligned"  # the follower reached the leader: the mode asked for engaged
    FINISHED = "finished"  # a replay or policy source ran out
    RECORDING_ENDED = "recording_ended"  # the recording flow ended: the follower is held
    ESTOP = "estop"
    CLEARED = "cleared"  # the e-stop was cleared
    FAULT = "fault"
    STALLED = "stalled"  # the watchdog: the control loop stalled
    HEARTBEAT = "heartbeat"  # the window stopped calling heartbeat()
    COMPLETED = "completed"  # a recording saved every episode it planned
    STOPPED = "stopped"  # a recording stopped by command (the episode in progress saved)
    RERECORD = "rerecord"  # an episode in progress dropped to be recorded again
    TRASHED = "trashed"  # an episode just saved sent to the trash (restorable) to be recorded again


@dataclass(frozen=True)
class Event:
    kind: Kind
    message: str  # one line in plain words, for display only
    t: float = field(default_factory=time.monotonic, kw_only=True)


@dataclass(frozen=True, kw_only=True)
class ModeChanged(Event):  # Kind.MODE; Kind.WATCHDOG when the missing heartbeat made it HOLD
    mode: Mode
    previous: Mode
    reason: Reason


@dataclass(frozen=True, kw_only=True)
class Fault(ModeChanged):  # Kind.FAULT, mode FAULT, reason FAULT
    error: str  # the error's own line
    motors: tuple[str, ...] = ()  # the motors at fault, when the error names them


@dataclass(frozen=True, kw_only=True)
class Stopped(Event):  # Kind.ESTOP (reason ESTOP) or Kind.WATCHDOG (reason STALLED): acted on at once
    reason: Reason
    action: str  # what was done to the follower: "torque_off" or "hold"


@dataclass(frozen=True, kw_only=True)
class PhaseStarted(Event):  # Kind.PHASE
    phase: str  # "episode" or "reset"
    episode: int  # the index in the dataset the next episode takes
    seconds: float  # how long the phase lasts at most


@dataclass(frozen=True, kw_only=True)
class EpisodeSaved(Event):  # Kind.EPISODE_SAVED
    episode: int  # its index in the dataset
    frames: int
    flagged: bool  # its telemetry has flags (drops, a slow loop)
    telemetry: dict  # EpisodeTelemetry.as_dict()


@dataclass(frozen=True, kw_only=True)
class EpisodeDiscarded(Event):  # Kind.EPISODE_DISCARDED
    episode: int  # the index it had (or would have had) in the dataset
    frames: int  # how many frames were dropped (or moved to the trash)
    reason: Reason  # RERECORD, TRASHED, or what aborted the recording (ESTOP, FAULT, STALLED, HEARTBEAT)


@dataclass(frozen=True, kw_only=True)
class RecordingDone(Event):  # Kind.RECORDING_DONE
    saved: int  # episodes this recording saved
    reason: Reason  # COMPLETED, STOPPED, or what aborted it (ESTOP, FAULT, STALLED, HEARTBEAT)


class EventBus:
    def __init__(self):
        self._lock = threading.Lock()
        self._subscribers: list[Callable[[Event], None]] = []

    def subscribe(self, fn: Callable[[Event], None]) -> Callable[[], None]:
        """Call fn(event) for every event from now on; returns a function that unsubscribes."""
        with self._lock:
            self._subscribers.append(fn)

        def unsubscribe() -> None:
            with self._lock:
                if fn in self._subscribers:
                    self._subscribers.remove(fn)
        return unsubscribe

    def publish(self, event: Event) -> Event:
        with self._lock:
            subscribers = list(self._subscribers)
        for fn in subscribers:
            try:
                fn(event)
            except Exception as e:  # noqa: BLE001 - a subscriber (a closed pipe, a closed window) must never stop
                # the publisher, which is often the control loop
                with contextlib.suppress(Exception):
                    print(f"robotapp: an event subscriber failed ({type(e).__name__}: {e})", file=sys.stderr)
        return event
