"""Functions the GUI tests run in the window's control process (ProcessRigHost.call_in_control), where the
virtual rig's servos are. No Qt here: the control process never loads it."""


def unplug_follower_motor(host, index: int) -> None:
    host.rig.sim.follower.chain.unplug(index)
