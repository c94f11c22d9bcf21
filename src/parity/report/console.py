"""The one way parity makes a rich Console: strings are printed as text, never read as markup.

Submitted strings (op types, tensor and folder names, finding summaries) reach rich tables and lines; a
console that reads markup would end on ``[/x]`` (an error, no report), make ``[link=…]`` a hyperlink and
hide ``[black on black]`` text, and emoji codes would become pictures. Styles are given as rich ``Text``
objects instead. Control characters are escaped before they reach rich (:func:`parity.errors.one_line`).
"""

from __future__ import annotations

from rich.console import Console


def make_console(
    file=None, *, width: int | None = None, stderr: bool = False, colour: bool = True
) -> Console:
    """A console with markup, emoji and highlighting off; without colour for a report written to a file."""
    return Console(
        file=file,
        width=width,
        stderr=stderr,
        markup=False,
        emoji=False,
        highlight=False,
        color_system="auto" if colour else None,
    )
