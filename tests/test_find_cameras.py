"""`robotapp find-cameras --rig virtual --snapshots DIR` saves what the virtual rig's cameras see: the MuJoCo
world rendered (table, red cube), not a test pattern."""

import cv2
import numpy as np

from hardware.cameras.virtual import ColorBarsPattern
from hardware.virtual.world import World
from robotapp.cli.main import main


def test_snapshots_are_the_rendered_scene(tmp_path, capsys):
    assert main(["find-cameras", "--rig", "virtual", "--snapshots", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"virtual:front: front, 320x240, snapshot {tmp_path / 'virtual_front.png'}" in out
    world = World(cameras=("front", "wrist"), width=320, height=240, seed=0)
    try:
        for name in ("front", "wrist"):
            saved = cv2.imread(str(tmp_path / f"virtual_{name}.png"))[:, :, ::-1]  # back to RGB
            rendered = world.render(name)
            assert saved.shape == (240, 320, 3)
            assert np.abs(saved.astype(int) - rendered.astype(int)).mean() < 2.0, name  # the same scene
    finally:
        world.close()
    front = cv2.imread(str(tmp_path / "virtual_front.png"))[:, :, ::-1].astype(int)
    red = (front[..., 0] > 120) & (front[..., 1] < 80) & (front[..., 2] < 80)
    assert red.sum() > 20  # the cube is in view
    bars = ColorBarsPattern(320, 240, 30)(0.0)
    assert np.abs(front - bars.astype(int)).mean() > 30  # not the test pattern it used to save
