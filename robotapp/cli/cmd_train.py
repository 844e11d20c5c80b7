"""`robotapp train`: train an ACT or Diffusion policy on a dataset."""

from __future__ import annotations


def register(sub) -> None:
    from policies.cli import add_train_command

    add_train_command(sub)
