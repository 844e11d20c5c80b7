"""`robotapp <command>`: parsing and calls only, one module per command family (cmd_*.py)."""

from robotapp.cli.main import main

__all__ = ["main"]
