"""`robotapp teleop | record | replay`: open the rig, run a session mode with a live status line and TTY keys,
print a summary. The logic lives in Session / RecordingFlow / ReplaySource; this is the terminal around them."""

from __future__ import annotations

import threading
import time

import numpy as np

from policies.frame_keys import ACTION_KEY, STATE_KEY
from robotapp.core.events import PROBLEMS, Event, Kind, ModeChanged, Reason
from robotapp.core.field_error import raise_first
from robotapp.core.modes import Mode, SessionConfig, rate_problem
from robotapp.core.recording import RecordingWords
from robotapp.core.replay import ReplaySource
from robotapp.core.rig_opener import is_virtual_rig, open_rig
from robotapp.core.session import Session
from robotapp.services.record_request import RecordRequest
from robotapp.terminal.tty import KeyReader, StatusDisplay

# `robotapp record`'s options, for the recording rules (RecordRequest.problems)
TERMINAL_WORDS = RecordingWords("--dataset", "--task", "--episodes", "--episode-time", "--reset-time",
                                "--warmup-time", "--demonstrator", "--fast", "--rig virtual", "add --resume",
                                "leave out --resume")


def _open(rig_name: str, fps: int, hz: float | None, seed: int = 0, fast: bool = False,
          fps_name: str = "--fps"):
    """fast (lock-step) is for the virtual rig only: record's rules (the --demonstrator) have made sure of it."""
    problem = None if hz is None else rate_problem(hz, fps, hz_name="--hz", fps_name=fps_name)
    if problem:
        raise ValueError(problem)
    config = SessionConfig(control_hz=hz or (fps if fast else 3 * fps), fps=fps, realtime=not fast)
    # lock-step: the servos answer in-process, in the caller's thread, so nothing depends on the machine's load
    rig = open_rig(rig_name, seed=seed, realtime=not fast)
    return rig, Session(rig, config)


def _run(session: Session, display_help: str, on_key, until, start) -> list[Event]:
    """Subscribe, then `start()` the activity (so no event it causes is missed, however fast it ends), and run
    until it ends, `until()`, or q / Ctrl-C; returns the fault-like events seen."""
    problems: list[Event] = []
    done = threading.Event()

    with StatusDisplay(session.snapshot, display_help) as display:
        def on_event(e: Event) -> None:
            display.event(e)
            if e.kind in PROBLEMS and getattr(e, "reason", None) != Reason.STALLED:  # a stall is guarded, not fatal
                problems.append(e)
            finished = isinstance(e, ModeChanged) and e.reason == Reason.FINISHED  # a replay ran out
            if e.kind in (Kind.RECORDING_DONE, Kind.FAULT, Kind.ESTOP) or finished:
                done.set()
        unsubscribe = session.events.subscribe(on_event)
        keys = KeyReader(lambda ch: on_key(ch, done)).start()
        try:
            start()
            while not done.wait(0.1):
                if until():
                    break
        except KeyboardInterrupt:
            display.event(Event(Kind.INFO, "interrupted"))
        finally:
            keys.stop()
            unsubscribe()
    return problems


def teleop(rig: str, align: bool, seconds: float | None, fps: int = 30, hz: float | None = None) -> int:
    rig_obj, session = _open(rig, fps, hz)
    t_end = None if seconds is None else time.monotonic() + seconds
    try:
        session.start()

        def key(ch: str, done: threading.Event) -> None:
            if ch == "q":
                done.set()
            elif ch == "e" and session.mode == Mode.HOLD:  # after a stall: engage again, aligning first
                session.teleop(align=True, wait=False)
        problems = _run(session, "e: engage again after a stall   q: stop", key,
                        lambda: t_end is not None and time.monotonic() >= t_end, lambda: session.teleop(align=align))
        if session.mode not in (Mode.FAULT, Mode.ESTOP):
            session.hold()
        hz_now, p99 = session.loop_rate()
        print(f"teleop ended: loop {hz_now:.1f} Hz, p99 tick {p99:.1f} ms")
        return 1 if problems else 0
    finally:
        session.close()
        rig_obj.close()


def record(rig: str, dataset: str, task: str, episodes: int, episode_time: float, reset_time: float,
           warmup_time: float, resume: bool, demonstrator: bool, seed: int, fps: int, codec: str, align: bool,
           hz: float | None = None, fast: bool = False) -> int:
    request = RecordRequest(dataset, task, episodes, episode_time, reset_time, warmup_time, resume=resume,
                            demonstrator=demonstrator, align=align, seed=seed, fast=fast)
    raise_first(request.problems(is_virtual=is_virtual_rig(rig), words=TERMINAL_WORDS))
    plan = request.plan()
    if resume:  # a dataset that cannot be trusted, or has another fps, is refused before the rig starts
        from robotapp.dataset import check_compatible
        from robotapp.dataset.recovery import preflight

        check_compatible(preflight(plan.dataset), fps=fps, what=f"--fps {fps}")
        if is_virtual_rig(rig):
            from robotapp.eval.seeds import resume_seed

            seed, note = resume_seed(plan.dataset, seed, episodes)
            if note:
                print(note, flush=True)
    rig_obj, session = _open(rig, fps, hz, seed, fast)
    try:
        scene = None
        if rig_obj.sim is not None:
            from robotapp.core.scenes import DemonstratorScene, VirtualResetScene

            scene = DemonstratorScene(rig_obj.sim, seed) if demonstrator else VirtualResetScene(rig_obj.sim, seed)
        session.start()

        def key(ch: str, done: threading.Event) -> None:
            command = {"n": session.next_episode, "r": session.rerecord, "q": session.stop_recording}.get(ch)
            if command is not None:
                try:
                    command(wait=False)
                except RuntimeError:
                    done.set()
        problems = _run(session, "n: next episode   r: re-record   q: stop", key, lambda: False,
                        lambda: session.record(plan, scene=scene, resume=resume, align=align or demonstrator,
                                               codec=codec))
        session.wait_idle(timeout=60.0)
        flow = session.last_recording
        flagged = sum(1 for t in flow.telemetry if t.flags)
        print(f"saved {flow.saved} episode(s) to {plan.dataset} ({flow.dataset_episodes} in the dataset)"
              + (f"; {flagged} flagged" if flagged else "")
              + ("; the empty dataset this recording created is removed" if flow.writer.removed else ""))
        if demonstrator:
            print(f"demonstrator success: {sum(scene.successes)}/{len(scene.successes)}")
        return 1 if problems else 0
    finally:
        session.close()
        rig_obj.close()


def replay(rig: str, dataset: str, episode: int, hz: float | None = None) -> int:
    from robotapp.dataset import DatasetReader
    from robotapp.eval.robot_match import check_replay_robot_type

    reader = DatasetReader(dataset)
    try:
        if not 0 <= episode < reader.num_episodes:
            raise ValueError(f"episode {episode} does not exist: {dataset} has episodes 0..{reader.num_episodes - 1}")
        data = reader.episode_data(episode)
        fps, extra, recorded_on = reader.fps, reader.extra(episode), reader.robot_type
    finally:
        reader.close()
    check_replay_robot_type(dataset, recorded_on, rig)  # before the rig moves
    seed = (extra.get("scene") or {}).get("virtual_seed", 0)
    rig_obj, session = _open(rig, fps, hz, seed, fps_name="the dataset's fps")
    try:
        if rig_obj.sim is not None:
            rig_obj.sim.reset(seed)  # the same cube start as when it was recorded
        source = ReplaySource(data[ACTION_KEY], fps)
        session.start()
        problems = _run(session, "q: stop", lambda ch, done: done.set() if ch == "q" else None, lambda: False,
                        lambda: session.run_source(Mode.REPLAY, source))
        if session.mode == Mode.REPLAY:
            session.hold()
        recorded = data[STATE_KEY][:len(source.states)]
        if source.states:
            err = np.abs(np.array(source.states) - recorded)
            print(f"replayed {len(source.states)}/{len(data[ACTION_KEY])} frames of episode {episode}; follower vs "
                  f"recorded state: mean error {err.mean():.2f}, max {err.max():.2f} (degrees / %)")
        if rig_obj.sim is not None:
            print(f"task success after replay: {rig_obj.sim.task.success()}")
        return 1 if problems else 0
    finally:
        session.close()
        rig_obj.close()
