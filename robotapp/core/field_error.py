"""The one error for input a person can fix: it names the field at fault, in the words of the interface that
asked (a window's label such as "Dataset folder", a command's option such as "--dataset").

The convention, everywhere: a check returns list[FieldError], every problem in the order of its fields, so a
form can mark each one; code that must not go on raises the first (`raise problems[0]`). A FieldError is a
ValueError, so the CLI's one-line error handler and `except ValueError` callers need nothing more."""

from __future__ import annotations


class FieldError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field  # the name the user sees, e.g. "Dataset folder" or "--dataset"
        self.message = message

    def __reduce__(self):  # pickles (a worker process's error) with both parts
        return type(self), (self.field, self.message)


def raise_first(problems: list[FieldError]) -> None:
    """Refuse with the first problem, if any."""
    if problems:
        raise problems[0]
