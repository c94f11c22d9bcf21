"""What each run of a benchmark folder contributes to the RCP test.

Its batch size, and how long it took to converge (epochs, or samples for the benchmarks that count them).
"""

from __future__ import annotations

import math
import os
from collections import namedtuple

from parity.engines.convergence.rcp import IN_SAMPLES, STEP_TARGETS
from parity.engines.logs.boundaries import run_boundaries
from parity.engines.logs.files import Refused, logs_under
from parity.engines.logs.parser import ParsedLog, parse
from parity.errors import BadInput
from parity.untrusted import finite_number

#: One result log: path, benchmark, batch size, convergence point (inf if it did not converge), status,
#: (epoch or sample count, quality) of every evaluation with numbers in log order (for plotting), and the
#: ``seed`` records (events) for the seed rules.
Run = namedtuple("Run", "path benchmark batch_size converged_at status evaluations seeds", defaults=((), ()))


def _first(events: list, accept) -> object:
    return next((event.value for event in events if accept(event.value)), None)


def read_run(path, parsed: ParsedLog | None = None) -> Run:
    """Read one result log's benchmark, batch size, evaluations, seeds and convergence point.

    ``parsed`` is the log already parsed by a caller that checks it too (the audit reads each log once).
    """
    grouped = (parsed or parse(path)).by_key()
    benchmark = _first(grouped.get("submission_benchmark", []), lambda v: isinstance(v, str))
    batch = _first(grouped.get("global_batch_size", []), lambda v: finite_number(v) and v > 0)
    field = "samples_count" if benchmark in IN_SAMPLES else "epoch_num"
    evaluations = tuple(
        (float(e.metadata[field]), float(e.value))
        for e in grouped.get("eval_accuracy", [])
        if finite_number(e.value) and finite_number(e.metadata.get(field))
    )
    if benchmark in STEP_TARGETS:
        converged_at, status = _first_step_meeting(grouped, STEP_TARGETS[benchmark])
    else:
        converged_at, status = _convergence_point(grouped, field)
    return Run(path, benchmark, batch, converged_at, status, evaluations, tuple(grouped.get("seed", ())))


def _first_step_meeting(grouped: dict, targets: dict) -> tuple[float, str]:
    """The first samples_count at which every metric (metadata.metric) meets its target, in the run."""
    stop, status = _stop(grouped)
    if status != "success":
        return math.inf, status
    steps: dict[float, dict] = {}
    for event in grouped.get("eval_accuracy", []):
        step, metric = event.metadata.get("samples_count"), event.metadata.get("metric")
        if (
            event.line < stop.line
            and finite_number(step)
            and finite_number(event.value)
            and isinstance(metric, str)
        ):
            steps.setdefault(float(step), {})[metric] = float(event.value)
    passing = [
        step
        for step, values in steps.items()
        if all(
            name in values and (values[name] <= bound if sense == "<=" else values[name] >= bound)
            for name, (sense, bound) in targets.items()
        )
    ]
    if not passing:
        shown = " and ".join(f"{name} {sense} {bound:g}" for name, (sense, bound) in targets.items())
        return math.inf, f"no evaluation meets {shown}"
    return min(passing), status


def _convergence_point(grouped: dict, field: str) -> tuple[float, str]:
    """The last evaluation before run_stop, if run_stop says success; else inf and why."""
    stop, status = _stop(grouped)
    if status != "success":
        return math.inf, status
    before = [e for e in grouped.get("eval_accuracy", []) if e.line < stop.line]
    if not before:
        return math.inf, "no evaluation"
    point = before[-1].metadata.get(field)
    if not finite_number(point):
        return math.inf, f"last evaluation has no finite numeric {field}"
    return (float(point) if field == "samples_count" else round(float(point), 3)), status


def _stop(grouped: dict) -> tuple[object, str]:
    """The run's stop (:func:`run_boundaries`, the one the score reads too) and its status."""
    stop = run_boundaries(grouped).run_stop
    return stop, (str(stop.metadata.get("status", "missing")) if stop is not None else "no run_stop")


def run_files(folder) -> tuple[list[str], list[Refused]]:
    """(every readable result_*.txt of a benchmark folder in a stable order, the ones not read and why)."""
    files, refused = logs_under(folder, ("result_*.txt",)) if os.path.isdir(folder) else ([], [])
    if not files:
        raise BadInput("no readable result_*.txt logs in the folder", folder)
    return files, refused


def read_runs(files: list[str], on_file=None) -> list[Run]:
    """The runs of these logs (see :func:`run_files`); ``on_file`` is told of each as it is read."""
    runs = []
    for path in files:
        if on_file is not None:
            on_file(path)
        runs.append(read_run(path))
    return runs
