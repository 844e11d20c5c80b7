"""Every `robotapp` command's --help, rendered as a user sees it: no argparse escapes printed literally ("%%"),
each command opens with a sentence saying what it does (its one-line help, not a module docstring), and the
README's example command lines parse with the real parser."""

import argparse
import re
import shlex
from pathlib import Path

import pytest

from robotapp.cli.main import build_parser

README = Path(__file__).resolve().parents[1] / "README.md"


def commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(path, parser, one-line help) for every command and sub-command, depth first."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield (*path, name), sub, helps.get(name)
                yield from commands(sub, (*path, name))


ALL = list(commands(build_parser()))


def test_every_command_is_found():
    names = {" ".join(p) for p, _, _ in ALL}
    assert {"gui", "record", "replay", "eval", "demo", "calibrate", "doctor", "find-cameras", "dataset check",
            "sim demo", "train"} <= names


@pytest.mark.parametrize("path,parser,line", ALL, ids=[" ".join(p) for p, _, _ in ALL])
def test_help_speaks_to_users(path, parser, line):
    text = parser.format_help()  # a single '%' in an option's help would raise here
    assert "%%" not in text
    assert line, f"robotapp {' '.join(path)} has no one-line help in `robotapp --help`"
    first = text.split("\n\n")[1].strip()  # after the usage block: the description, not the options' heading
    assert first[:1].isupper() and not first.startswith("`"), first


def test_top_level_help_lists_every_command_with_a_sentence():
    text = build_parser().format_help()
    assert "%%" not in text and text.split("\n\n")[1].startswith("Set up, teleoperate, record")
    for path, _, _ in ALL:
        if len(path) == 1:
            assert re.search(rf"^\s+{re.escape(path[0])}\s+\S", text, re.M), path


def test_options_users_asked_about():
    by_path = {p: parser for p, parser, _ in ALL}
    assert "counting from 0" in " ".join(by_path[("replay",)].format_help().split())
    assert "(rate X%, 95% CI [a, b])" in " ".join(by_path[("eval",)].format_help().split())


def readme_commands() -> list[str]:
    """`.venv/bin/robotapp ...` lines of the README's code blocks (continuations joined, comments dropped)."""
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), re.S)
    lines = " ".join(blocks).replace("\\\n", " ").splitlines()
    return [line.strip() for line in lines if line.strip().startswith(".venv/bin/robotapp ")]


def test_readme_examples_parse():
    found = readme_commands()
    assert len(found) >= 8
    parser = build_parser()
    for line in found:
        argv = shlex.split(line, comments=True)[1:]
        try:
            parser.parse_args(argv)
        except SystemExit as e:
            pytest.fail(f"README example does not parse ({e.code}): {line}")
