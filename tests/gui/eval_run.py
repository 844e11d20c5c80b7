"""A tiny ACT training run (2 steps on two synthetic episodes) for the window's evaluation tests: its checkpoint
names the dataset and the run it came from, as a real one does."""

from pathlib import Path

from policies.train import TrainOptions, train
from robotapp.dataset import DatasetReader
from tests.policies.helpers import TINY_ACT, make_episodes, write_dataset


def tiny_run(root: Path) -> Path:
    """root/ds (the dataset) and root/run (the training run, checkpoints/000002 and last)."""
    write_dataset(root / "ds", make_episodes(2, length=20, hw=(120, 160), cams=("front",)))
    with DatasetReader(root / "ds") as reader:
        train(TrainOptions(dataset=str(root / "ds"), policy="act", steps=2, save_every=2, out=str(root / "run"),
                           overrides=dict(TINY_ACT), progress=False, device="cpu"), reader)
    return root / "run"
