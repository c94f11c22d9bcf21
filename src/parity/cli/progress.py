"""Progress on stderr for steps that can take more than a second; silent when quiet or not a terminal.

rich is imported only when a bar is drawn, so commands run from scripts and CI start without it.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

from parity.cli import output


@contextmanager
def steps(total: int):
    """A callback to announce each step as it starts; the bar shows steps done out of ``total``."""
    if output.QUIET or not sys.stderr.isatty():
        yield lambda _step: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    from parity.report.console import make_console

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
    )
    with Progress(
        *columns, TimeElapsedColumn(), console=make_console(stderr=True), transient=True
    ) as progress:
        task = progress.add_task("starting", total=total)
        started = 0

        def announce(step: str) -> None:
            nonlocal started
            progress.update(task, description=step, completed=started)
            started += 1

        yield announce
        progress.update(task, completed=total)


@contextmanager
def phases():
    """``start(name, total)`` adds a bar for a phase and returns its ``advance(step)``; one bar per phase.

    The bars stay on screen (a phase that is done shows its count), so a long audit shows where it is.
    """
    if output.QUIET or not sys.stderr.isatty():
        yield lambda _name, _total: lambda _step="": None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from parity.report.console import make_console

    columns = (
        TextColumn("{task.description:<32}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=make_console(stderr=True)) as progress:

        def start(name: str, total: int):
            task = progress.add_task(name, total=total)
            return lambda _step="": progress.advance(task)

        yield start
