"""The terminal front end: the teleop/record/replay/setup/demo commands as a person runs them at a terminal
(live status line, TTY keys, printed summaries)."""
