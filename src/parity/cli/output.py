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


def refuse_overwriting_inputs(out, inputs, option: str = "--out") -> None:
    """Refuse an output path that is a file the command reads, or lies inside a folder it reads.

    Compared by identity, not by spelling: the output's real path and its (st_dev, st_ino) against each
    input's, so a symlink or a hard link to an input is refused too; for a folder, every folder above the
    output (real path) is compared with it, so a report cannot land inside a submission tree. Inputs that
    do not exist (a rulebook id, a path the command will refuse anyway) are skipped.

    Raises:
        BadInput: naming the output and the input it would overwrite or land in.
    """
    if out is None:
        return
    targets = [_identity(os.path.realpath(out))]
    folder = os.path.dirname(os.path.realpath(out))
    while True:
        targets.append(_identity(folder))
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    for source in inputs:
        if source is None:
            continue
        found = _identity(os.fspath(source))
        if found is None:
            continue
        if found == targets[0]:
            raise BadInput(f"{option} would write over {os.fspath(source)}, which this command reads", out)
        if os.path.isdir(source) and found in targets[1:]:
            raise BadInput(f"{option} lies inside {os.fspath(source)}, which this command reads", out)


def _identity(path: str) -> tuple[int, int] | None:
    """(st_dev, st_ino) of ``path`` (symlinks followed), or None if there is nothing there."""
    try:
        found = os.stat(path)
    except (OSError, ValueError):
        return None
    return (found.st_dev, found.st_ino)


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
