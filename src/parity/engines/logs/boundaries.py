"""The boundaries of the run a training log records: the one definition score, convergence and limits use.

mlperf-logging's compliance checker requires ``init_stop``, ``run_start`` and ``run_stop`` EXACTLY_ONE
(``training_*/common.yaml``); ``init_start`` AT_LEAST_ONE, its first time starting the initialisation
budget (``s['first_init_start'] = min(...)``). These records are *events*: their value is null, so two of
them cannot be told apart by value, and each occurrence counts. A log that repeats one is a finding of the
checker (:func:`parity.engines.logs.checker.check_log`), and whatever reads the run (its time to train, its
convergence point, the initialisation limit) takes its boundaries from :func:`run_boundaries` only:

* the run starts at the first ``run_start`` and stops at the first ``run_stop``, in file order;
* initialisation starts at the earliest ``init_start`` and stops at the first ``init_stop``.

So a second ``run_stop`` cannot shorten the score while convergence reads the whole run: both read the same
stop, and the log fails its check.
"""

from __future__ import annotations

from collections import namedtuple

#: events the rules require exactly once; each occurrence counts, whatever its value
ONCE_EVENTS = ("init_stop", "run_start", "run_stop")

#: ``start``/``stop`` of the run and of initialisation (each an Event or None)
Boundaries = namedtuple("Boundaries", "init_start init_stop run_start run_stop")


def run_boundaries(grouped: dict) -> Boundaries:
    """The run's and initialisation's boundary events of a log grouped by key (``ParsedLog.by_key``)."""
    init_starts = grouped.get("init_start") or []
    return Boundaries(
        min(init_starts, key=lambda event: event.time_ms) if init_starts else None,
        _first(grouped, "init_stop"),
        _first(grouped, "run_start"),
        _first(grouped, "run_stop"),
    )


def run_minutes(boundaries: Boundaries) -> float | None:
    """Minutes from run_start to run_stop; None if either is missing or the stop precedes the start."""
    start, stop = boundaries.run_start, boundaries.run_stop
    if start is None or stop is None or stop.time_ms < start.time_ms or stop.line < start.line:
        return None
    return (stop.time_ms - start.time_ms) / 60_000


def repeated_events(grouped: dict) -> dict[str, list]:
    """The exactly-once events logged more than once, with every occurrence."""
    return {key: grouped[key] for key in ONCE_EVENTS if len(grouped.get(key) or ()) > 1}


def _first(grouped: dict, key: str):
    events = grouped.get(key) or []
    return events[0] if events else None


__all__ = ["ONCE_EVENTS", "Boundaries", "repeated_events", "run_boundaries", "run_minutes"]
