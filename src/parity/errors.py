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


#: what no report shows raw: C0 controls (ESC starts ANSI and OSC sequences), DEL, C1 controls (U+009B
#: is a one-character CSI), lone surrogates (no UTF-8 writer accepts them), the bidirectional overrides
#: and isolates (they reorder what a reader sees) and the two noncharacters XML 1.0 forbids
_UNPRINTABLE = (
    *range(0x20),
    *range(0x7F, 0xA0),
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    *range(0xD800, 0xE000),
    0xFFFE,
    0xFFFF,
)
_ESCAPES = {code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" for code in _UNPRINTABLE}
_ONE_LINE = {**_ESCAPES, ord("\n"): "\\n"}
_LINES = {code: text for code, text in _ONE_LINE.items() if code not in (ord("\n"), ord("\t"))}


def one_line(text) -> str:
    r"""The text on one printable line: newlines, control characters and lone surrogates escaped.

    The one escape of submitted text for a terminal, a plain-text file and XML text: every character a
    terminal would act on (ESC, CSI, OSC, BEL, CR, a newline that starts a fake line), every character
    XML 1.0 forbids, and every lone surrogate becomes the visible text of its escape (``\x1b``,
    ``\x9b``, ``\n``, ``\udcff``), so a reader sees what the file said and nothing acts on it.
    """
    return str(text).translate(_ONE_LINE)


def printable(text) -> str:
    """:func:`one_line`, keeping newlines and tabs: for formats that show them as text (HTML)."""
    return str(text).translate(_LINES)
