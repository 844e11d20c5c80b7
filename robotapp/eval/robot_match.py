"""Whether a policy may run on a rig: one trained on another robot's data is refused, because its joint values
mean other angles on this arm (and its images another scene)."""

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
        hint = next((f"; use --rig {name}" for name in _virtual_rigs() if same_robot_type(_virtual_type(name), trained)),
                    "")
        raise ValueError(f"{policy_dir}: the policy was trained on {trained} data, but rig {rig_name!r} is "
                         f"{rig_type}{hint}")


def _virtual_rigs() -> list[str]:
    from robotapp.core.rig_opener import VIRTUAL_RIGS

    return list(VIRTUAL_RIGS)


def _virtual_type(name: str) -> str:
    from hardware.arms.profile import load_profile
    from hardware.virtual.sim import ARM_PROFILES
    from robotapp.core.rig_opener import VIRTUAL_RIGS

    prof = load_profile(ARM_PROFILES[VIRTUAL_RIGS[name]][1])
    return prof.robot_type or prof.name
