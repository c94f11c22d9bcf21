"""Where command output goes, in which format."""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from parity.errors import BadInput
from parity.report.json_output import to_json

#: set by `parity --quiet`: no progress, no notes on stderr (for CI)
QUIET = False


#: the `--out` option every reporting command takes
OutOption = Annotated[
    Path | None, typer.Option("--out", "-o", help="Write the report here instead of to stdout.")
]


class Format(StrEnum):
    """Output format for informational commands."""

    TEXT = "text"
    JSON = "json"


def console() -> Console:
    """A console for stdout; wide enough to keep tables readable when piped."""
    return Console(width=None if sys.stdout.isatty() else 160, highlight=False)


def emit_json(payload: Any) -> None:
    """Write deterministic JSON to stdout."""
    sys.stdout.write(to_json(payload))


def write_file(path: Path, content: str) -> None:
    """Write a file the user asked for; failure is bad input naming the path, not a traceback."""
    try:
        path.write_text(content, encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot write ({exc.strerror})", path) from None


def write_report(report: str, out: Path | None, verdict: str, format_name: str) -> None:
    """Write a report to ``out`` (saying where on stderr unless quiet), or to stdout without ``out``."""
    if out is None:
        sys.stdout.write(report)
        return
    write_file(out, report)
    if not QUIET:
        sys.stderr.write(f"parity: {verdict}; {format_name} report written to {out}\n")


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
