"""Whether a policy may run on a rig, or an episode be replayed on it: one trained or recorded on another robot is
refused, because its joint values mean other angles on this arm (and its images another scene)."""

from __future__ import annotations

import json
from pathlib import Path

from robotapp.dataset.meta import same_robot_type


def trained_robot_type(policy_folder: str | Path) -> str | None:
    """The robot type of the dataset a checkpoint was trained on (None when its training state does not say)."""
    try:
        value = json.loads((Path(policy_folder) / "training_state.json").read_text()).get("robot_type")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and value else None


def check_robot_type(policy_dir: str | Path, rig_type: str, rig_name: str) -> None:
    """One-line ValueError when the policy was trained on another robot type than the rig's; it names the virtual
    rig that would fit."""
    trained = trained_robot_type(policy_dir)
    if trained is not None and not same_robot_type(trained, rig_type):
        raise ValueError(f"{policy_dir}: the policy was trained on {trained} data, but rig {rig_name!r} is "
                         f"{rig_type}{_hint(trained)}")


def check_replay_robot_type(dataset: str | Path, recorded: str | None, rig_name: str,
                            hint: str = "; use --rig {}") -> None:
    """One-line ValueError when a dataset recorded on another robot type than the rig's is to be replayed; `hint`
    says how to choose the virtual rig that fits (the command line's words by default)."""
    rig_type = rig_robot_type(rig_name)
    if recorded and rig_type and not same_robot_type(recorded, rig_type):
        raise ValueError(f"{dataset}: recorded on {recorded}, but rig {rig_name!r} is {rig_type}"
                         f"{_hint(recorded, hint)}")


def rig_robot_type(rig_name: str) -> str | None:
    """A rig's robot type from its name (a virtual rig, or a saved config's follower profile); None when the name
    does not say (no such config: opening it says why)."""
    from hardware.arms.profile import load_profile
    from hardware.rig_config import load_rig

    if rig_name in _virtual_rigs():
        return _virtual_type(rig_name)
    try:
        prof = load_profile(load_rig(rig_name).arm("follower").profile)
    except (OSError, ValueError, LookupError):
        return None
    return prof.robot_type or prof.name


def _hint(robot_type: str, words: str = "; use --rig {}") -> str:
    return next((words.format(name) for name in _virtual_rigs() if same_robot_type(_virtual_type(name), robot_type)),
                "")


def _virtual_rigs() -> list[str]:
    from robotapp.core.rig_opener import VIRTUAL_RIGS

    return list(VIRTUAL_RIGS)


def _virtual_type(name: str) -> str:
    from hardware.arms.profile import ARM_PROFILES, load_profile
    from robotapp.core.rig_opener import VIRTUAL_RIGS

    prof = load_profile(ARM_PROFILES[VIRTUAL_RIGS[name]][1])
    return prof.robot_type or prof.name
