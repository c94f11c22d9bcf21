"""Where command output goes: stdout or the file named by ``--out``, and the notes on stderr.

No rich and no typer here: the fast commands (`logs check`, `rcp check`) write through this module too.
"""

from __future__ import annotations

import os
import sys

from parity.errors import BadInput
from parity.report.json_output import to_json

#: set by `parity --quiet`: no progress, no notes on stderr (for CI)
QUIET = False


def set_quiet(quiet: bool) -> None:
    """`--quiet`: no progress, no notes, and no library warnings (numpy's on hostile numbers) on stderr."""
    global QUIET
    QUIET = quiet
    if quiet:
        import warnings

        warnings.simplefilter("ignore")


def tolerant_streams() -> None:
    """Let stdout and stderr write any text: a lone surrogate from a submitted string becomes an escape."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def to_stdout(text: str) -> None:
    """Write to stdout; a reader that stops early (``| head``) does not change the exit code."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        discard_stdout()


def discard_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's final flush cannot fail on a closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def emit_json(payload) -> None:
    """Write deterministic JSON to stdout."""
    to_stdout(to_json(payload))


def write_file(path, content: str) -> None:
    """Write a file the user asked for; failure is bad input naming the path, not a traceback."""
    try:
        with open(path, "w", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(content)
    except OSError as exc:
        raise BadInput(f"cannot write ({exc.strerror})", path) from None


def write_report(report: str, out, verdict: str, format_name: str) -> None:
    """Write a report to ``out`` (saying where on stderr unless quiet), or to stdout without ``out``."""
    if out is None:
        to_stdout(report)
        return
    write_file(out, report)
    if not QUIET:
        sys.stderr.write(f"parity: {verdict}; {format_name} report written to {out}\n")
