"""The `parity` executable: run a fast command directly, everything else through the typer app.

`logs check` and `rcp check` are run from scripts and CI once per log or folder, so their start-up is
most of their cost; they are argparse commands that import neither typer, rich nor pydantic. Both paths
map errors to DESIGN.md's exit codes the same way: one line on stderr, never a traceback (unless
PARITY_DEBUG=1).
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from importlib import import_module

from parity.errors import BadInput, ExitCode, ParityError, one_line

#: (group, command) -> module with a ``main(argv) -> int`` that implements it
FAST_COMMANDS = {("logs", "check"): "parity.cli.logs_cmd", ("rcp", "check"): "parity.cli.rcp_cmd"}
QUIET_FLAGS = ("--quiet", "-q")
VERSION_FLAGS = ("--version", "-V")


def _version() -> str:
    """The installed distribution's version (the source tree's when run uninstalled)."""
    from importlib import metadata

    try:
        return metadata.version("parity")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


class UsageError(ParityError):
    """The command line itself is wrong (unknown option, missing argument)."""


def fail(message: str, code: ExitCode):
    """Say what went wrong in one line and exit."""
    sys.stderr.write(f"parity: {one_line(message)}\n")
    sys.exit(code)


@contextmanager
def exit_codes():
    """Turn what a command raises into DESIGN.md's exit codes and a one-line message."""
    try:
        yield
    except UsageError as exc:
        fail(f"usage error: {exc}", ExitCode.BAD_INPUT)
    except BadInput as exc:
        fail(f"error: {exc}", ExitCode.BAD_INPUT)
    except ParityError as exc:
        fail(f"error: {exc}", ExitCode.INTERNAL)
    except BrokenPipeError:  # a report printed by rich to a reader that stopped early
        from parity.cli.output import discard_stdout

        discard_stdout()
        sys.exit(ExitCode.CONFORMS)
    except KeyboardInterrupt:
        fail("interrupted", ExitCode.BAD_INPUT)
    except MemoryError:  # the input needs more than the address space the caller allows (prlimit --as)
        fail("error: ran out of memory (the input needs more than this process may use)", ExitCode.BAD_INPUT)
    except Exception as exc:
        if os.environ.get("PARITY_DEBUG"):
            raise
        fail(
            f"internal error: {type(exc).__name__}: {exc} (PARITY_DEBUG=1 shows the traceback)",
            ExitCode.INTERNAL,
        )


def refuse_option_files(args: list[str]) -> None:
    """Refuse an argument before ``--`` that starts with ``-`` and names an existing file or folder.

    A shell expands ``*`` to the names a submitter chose: in a folder holding a file named
    ``--division=open`` or ``--out=result_1.txt``, ``parity logs check *`` would read that name as the
    option. No real option is also the name of something in the working folder, so such an argument is
    refused (exit 3) for every command; after ``--`` every argument is a path (``parity logs check -- *``).
    """
    for arg in args:
        if arg == "--":
            return
        if arg.startswith("-") and arg != "-" and os.path.lexists(arg):
            raise UsageError(
                f"{arg!r} looks like an option but is the name of a file here (a shell glob?): "
                "put paths after `--` (parity logs check -- *) or write them as ./NAME"
            )


def main(argv: list[str] | None = None):
    """Run `parity ARGV...` and exit with its code."""
    from parity.cli import output

    output.tolerant_streams()
    args = list(sys.argv[1:] if argv is None else argv)
    with exit_codes():
        refuse_option_files(args)
    options = args[: args.index("--")] if "--" in args else args
    if any(arg in VERSION_FLAGS for arg in options):
        print(f"parity {_version()}")
        sys.exit(0)
    if any(arg in QUIET_FLAGS for arg in options):  # --quiet anywhere before "--": a global option
        rest = args[len(options) :]
        args = ["--quiet", *(arg for arg in options if arg not in QUIET_FLAGS), *rest]
    leading = 0
    while leading < len(args) and args[leading] in QUIET_FLAGS:
        leading += 1
    module = FAST_COMMANDS.get(tuple(args[leading : leading + 2]))
    if module is None:
        from parity.cli.main import run

        run(args)
    output.set_quiet(leading > 0)
    with exit_codes():
        code = import_module(module).main(args[leading + 2 :])
    sys.exit(code)
