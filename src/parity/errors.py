"""Errors and exit codes shared by every layer.

User mistakes and hostile input raise :class:`BadInput`; the CLI turns it into one line and exit code 3.
Anything else is a bug in parity and exits 4.
"""

from __future__ import annotations

import os
from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, as fixed by DESIGN.md."""

    #: The candidate conforms to the rulebook (or an informational command succeeded).
    CONFORMS = 0
    #: At least one finding is forbidden by a rule.
    VIOLATES = 1
    #: Nothing is forbidden, but at least one finding needs a human or more evidence.
    NEEDS_REVIEW = 2
    #: The input or the command line is wrong; the message says which file and what.
    BAD_INPUT = 3
    #: parity itself failed.
    INTERNAL = 4


class ParityError(Exception):
    """Base class of every error parity raises on purpose."""


class BadInput(ParityError):
    """A file or argument given by the user is missing, malformed or hostile.

    The message is one line that names the file (when there is one) and the problem.
    """

    def __init__(self, problem: str, path: str | os.PathLike | None = None) -> None:
        self.path = None if path is None else str(path)
        self.problem = problem
        message = f"{self.path}: {problem}" if self.path else problem
        super().__init__(one_line(message))


def one_line(text: str) -> str:
    """The text on one printable line: newlines, control characters and lone surrogates escaped."""
    escaped = []
    for char in str(text):
        code = ord(char)
        if char == "\n":
            escaped.append("\\n")
        elif code < 32 or code == 127 or 0xD800 <= code <= 0xDFFF:
            escaped.append(f"\\x{code:02x}" if code < 256 else f"\\u{code:04x}")
        else:
            escaped.append(char)
    return "".join(escaped)
