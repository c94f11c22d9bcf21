"""Options and rich output shared by the typer commands (`check`, `judge`, `rules`, `demo`)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from parity.cli.output import write_report

#: the `--out` option every reporting command takes
OutOption = Annotated[
    Path | None, typer.Option("--out", "-o", help="Write the report here instead of to stdout.")
]


class Format(StrEnum):
    """Output format for informational commands."""

    TEXT = "text"
    JSON = "json"


def console() -> Console:
    """A console for stdout; wide enough to keep tables readable when piped.

    Made by :func:`parity.report.console.make_console`, as every console is: no markup, no emoji.
    """
    from parity.report.console import make_console

    return make_console(width=None if sys.stdout.isatty() else 160)


def deliver(
    format_name: str,
    out: Path | None,
    verdict: str,
    show: Callable[[Console], None],
    render: Callable[[], str],
) -> None:
    """Text without ``--out`` is shown in the terminal; any other report is rendered whole and written.

    ``show`` draws the text report on a console (also used, without colour, for text written to a file);
    ``render`` makes every other format.
    """
    if format_name == "text" and out is None:
        show(console())
        return
    from parity.report.text import plain_text

    write_report(plain_text(show) if format_name == "text" else render(), out, verdict, format_name)
