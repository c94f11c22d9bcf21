"""argparse for the fast commands, with parity's conventions: usage errors exit 3, not argparse's 2."""

from __future__ import annotations

import argparse
import os

from parity.cli.entry import UsageError


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, sized with ``os`` (argparse imports shutil, and its archivers, for that)."""

    def __init__(self, prog: str) -> None:
        try:
            columns = int(os.environ.get("COLUMNS", "0")) or os.get_terminal_size().columns
        except (OSError, ValueError):
            columns = 80
        super().__init__(prog, width=max(columns, 40) - 2)


class ArgumentParser(argparse.ArgumentParser):
    """An argparse parser whose errors become :class:`UsageError` (one line, exit code 3)."""

    def __init__(self, **options) -> None:
        super().__init__(formatter_class=HelpFormatter, allow_abbrev=False, **options)

    def parse_paths_anywhere(self, argv: list[str], dest: str):
        """Options may come between the paths (``dest`` is a ``nargs="*"`` positional of at least one path).

        Everything after ``--`` is a path, even a name that starts with ``-``: argparse's intermixed
        parsing reads such a name as an option again in its second pass, so ``--`` is split off here.
        """
        rest: list[str] = []
        if "--" in argv:
            cut = argv.index("--")
            argv, rest = argv[:cut], argv[cut + 1 :]
        args = self.parse_intermixed_args(argv)
        setattr(args, dest, [*getattr(args, dest), *rest])
        if not getattr(args, dest):
            self.error(f"the following arguments are required: {dest.upper().rstrip('S')}")
        return args

    def error(self, message: str):
        """Raise instead of printing usage and exiting 2."""
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def add_output_options(parser: argparse.ArgumentParser, formats: tuple[str, ...]) -> None:
    """``--format/-f`` (first of ``formats`` by default) and ``--out/-o``."""
    parser.add_argument(
        "-f", "--format", choices=formats, default=formats[0], help=f"output format (default: {formats[0]})"
    )
    parser.add_argument("-o", "--out", metavar="PATH", help="write the report here instead of to stdout")
