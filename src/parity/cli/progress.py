"""Progress on stderr for steps that can take more than a second; silent when quiet or not a terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from parity.cli import output


@contextmanager
def steps(total: int) -> Iterator[Callable[[str], None]]:
    """A callback to announce each step as it starts; the bar shows steps done out of ``total``."""
    console = Console(stderr=True)
    if output.QUIET or not console.is_terminal:
        yield lambda _step: None
        return

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task("starting", total=total)
        started = 0

        def announce(step: str) -> None:
            nonlocal started
            progress.update(task, description=step, completed=started)
            started += 1

        yield announce
        progress.update(task, completed=total)
