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
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("starting", total=total)
        started = 0

        def announce(step: str) -> None:
            nonlocal started
            progress.update(task, description=step, completed=started)
            started += 1

        yield announce
        progress.update(task, completed=total)
